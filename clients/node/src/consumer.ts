/**
 * A consumer-group reader for a stream target.
 *
 * - The group is created on first use if missing (`XGROUP CREATE <stream> <group> <start>
 *   MKSTREAM`). `start` defaults to `0`: the group then also gets the entries published
 *   before it existed. `$` gives only entries added after the group was created.
 * - read() is XREADGROUP ... `>` (new entries for this consumer); ack() is XACK with the
 *   stream entry ids; reclaim() takes over entries another consumer left pending longer
 *   than `minIdleMs` (XAUTOCLAIM, following its cursor).
 * - A blocking read runs on a connection of its own (opened on first use), so it never
 *   stalls other commands sent through the shared client. `blockMs` 0 blocks until an
 *   entry arrives, as Redis's `BLOCK 0`; `null` does not block.
 * - That connection is healed: after a reconnection the next read first re-reads this
 *   consumer's pending entries (`XREADGROUP ... 0`), so an entry whose delivery was cut by
 *   the outage is handed out again instead of staying pending.
 * - close(), an aborted signal, or leaving a `for await` loop frees the connection.
 */
import { SwarmError } from './errors.js';
import { decodeStreamEntry, type Message } from './message.js';
import { arr, num, str, type Num } from './reply.js';
import { abortable, eitherSignal, healing, onAbort, type ConnectionObserver, type Transport } from './transport.js';

export interface ConsumerOptions {
  /** The stream key, with or without the `stream:` target prefix. */
  stream: string;
  group: string;
  consumer: string;
  /** Where a newly created group starts: `0` (default, every entry) or `$` (new ones only). */
  start?: string;
  /** Entries per read (default 10). */
  count?: Num;
  /** How long read() blocks waiting for entries, in ms: default 1000, 0 forever, null not at all. */
  blockMs?: Num | null;
  /** Pending entries idle this long may be reclaimed (default 30000). */
  minIdleMs?: Num;
  /** Closes the consumer when aborted: a read in progress rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface ReadOptions {
  count?: Num;
  blockMs?: Num | null;
  /** Cancels this read (its connection is dropped; the next read opens another). */
  signal?: AbortSignal;
}

export interface ReclaimResult<P = unknown> {
  messages: Message<P>[];
  /** Entry ids that were pending but are gone from the stream (trimmed): dropped from the PEL. */
  deleted: string[];
}

export class StreamConsumer<P = unknown> implements AsyncIterable<Message<P>> {
  readonly stream: string;
  readonly group: string;
  readonly name: string;
  private readonly start: string;
  private readonly count: string;
  private readonly blockMs: string | null;
  private readonly minIdleMs: string;
  private readonly signal: AbortSignal | undefined;
  private groupReady = false;
  private blocking: Transport | undefined;
  private opening: Promise<Transport> | undefined;
  private reading = 0;
  private recover = false;
  private closed = false;
  private unlisten: (() => void) | undefined;

  constructor(
    private readonly t: Transport,
    opts: ConsumerOptions,
    private readonly observe?: ConnectionObserver,
  ) {
    this.stream = opts.stream.startsWith('stream:') ? opts.stream.slice(7) : opts.stream;
    this.group = opts.group;
    this.name = opts.consumer;
    this.start = opts.start ?? '0';
    this.count = String(opts.count ?? 10);
    this.blockMs = opts.blockMs === null ? null : String(opts.blockMs ?? 1000);
    this.minIdleMs = String(opts.minIdleMs ?? 30000);
    this.signal = opts.signal;
    if (this.signal?.aborted) this.closed = true;
    else if (this.signal) this.unlisten = onAbort(this.signal, () => void this.close());
  }

  /** Whether close() was called (or the consumer's signal aborted). */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Creates the group (and the stream) if missing; true if this call created it. */
  async ensureGroup(): Promise<boolean> {
    try {
      await this.t.call(['XGROUP', 'CREATE', this.stream, this.group, this.start, 'MKSTREAM']);
      this.groupReady = true;
      return true;
    } catch (err) {
      if (err instanceof SwarmError && err.code === 'BUSYGROUP') {
        this.groupReady = true;
        return false;
      }
      throw err;
    }
  }

  /**
   * New entries for this consumer (XREADGROUP >); [] when none arrived within blockMs.
   * After a reconnection, this consumer's own pending entries come first.
   */
  async read(opts: ReadOptions = {}): Promise<Message<P>[]> {
    const either = eitherSignal(opts.signal, this.signal);
    try {
      return await this.readWith(opts, either.signal);
    } finally {
      either.dispose();
    }
  }

  private async readWith(opts: ReadOptions, signal: AbortSignal | undefined): Promise<Message<P>[]> {
    signal?.throwIfAborted();
    if (this.closed) return [];
    if (!this.groupReady) await this.ensureGroup();
    const block = opts.blockMs === undefined ? this.blockMs : opts.blockMs === null ? null : String(opts.blockMs);
    const count = String(opts.count ?? this.count);
    const args = (id: string, blockMs: string | null): string[] => {
      const a = ['XREADGROUP', 'GROUP', this.group, this.name, 'COUNT', count];
      if (blockMs !== null) a.push('BLOCK', blockMs);
      a.push('STREAMS', this.stream, id);
      return a;
    };
    if (block === null) return this.withGroup(async () => this.decodeRead(await this.t.call(args('>', null))));

    const conn = await this.connection();
    this.reading++;
    try {
      return await healing(conn, signal, () =>
        this.withGroup(async () => {
          if (this.recover) {
            const mine = this.decodeRead(await this.callOn(conn, args('0', null), signal));
            if (mine.length < Number(count)) this.recover = false;
            if (mine.length > 0) return mine;
          }
          return this.decodeRead(await this.callOn(conn, args('>', block), signal));
        }),
      );
    } catch (err) {
      if (this.closed && !signal?.aborted) return [];
      throw err;
    } finally {
      this.reading--;
    }
  }

  /** XACK: acknowledges messages (or entry ids); the number acknowledged. Retried across a reconnection. */
  async ack(...items: Array<Message<unknown> | string>): Promise<number> {
    const ids = items.map((m) => (typeof m === 'string' ? m : m.entryId ?? m.id));
    if (ids.length === 0) return 0;
    return num(await healing(this.t, this.signal, () => this.t.call(['XACK', this.stream, this.group, ...ids])));
  }

  /**
   * Claims for this consumer the entries pending longer than minIdleMs (XAUTOCLAIM from
   * `0-0`, following the cursor until it wraps or `count` entries were claimed).
   */
  async reclaim(opts: { minIdleMs?: Num; count?: Num } = {}): Promise<ReclaimResult<P>> {
    if (!this.groupReady) await this.ensureGroup();
    const limit = Number(opts.count ?? this.count);
    const idle = String(opts.minIdleMs ?? this.minIdleMs);
    const out: ReclaimResult<P> = { messages: [], deleted: [] };
    let cursor = '0-0';
    do {
      const want = String(limit - out.messages.length);
      const reply = arr(
        await this.t.call(['XAUTOCLAIM', this.stream, this.group, this.name, idle, cursor, 'COUNT', want]),
      );
      cursor = str(reply[0]);
      for (const e of arr(reply[1])) {
        const [id, fields] = arr(e);
        if (fields !== null && fields !== undefined) {
          out.messages.push(decodeStreamEntry<P>(this.stream, str(id), fields));
        }
      }
      for (const d of arr(reply[2])) out.deleted.push(str(d));
    } while (cursor !== '0-0' && out.messages.length < limit);
    return out;
  }

  /** XPENDING summary: how many entries of the group are delivered but not acknowledged. */
  async pending(): Promise<number> {
    const reply = arr(await this.t.call(['XPENDING', this.stream, this.group]));
    return num(reply[0] ?? 0);
  }

  /**
   * Reads until close() or the consumer's signal: yields each entry; acknowledge with
   * ack(). Leaving the loop (break, return, throw) closes the consumer and its connection.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<Message<P>> {
    try {
      while (!this.closed) {
        for (const m of await this.read()) yield m;
      }
      this.signal?.throwIfAborted();
    } finally {
      await this.close();
    }
  }

  /** Stops the iteration and frees the blocking connection (dropping a read in progress). */
  async close(): Promise<void> {
    this.closed = true;
    this.unlisten?.();
    const b = this.blocking;
    this.blocking = undefined;
    if (!b) return;
    // A blocked XREADGROUP holds the connection until it answers: drop it rather than QUIT.
    if (this.reading > 0 && b.destroy) b.destroy();
    else await b.close();
  }

  private async connection(): Promise<Transport> {
    if (this.blocking) return this.blocking;
    this.opening ??= this.t.duplicate('consumer', (e) => {
      if (e.state === 'up') this.recover = true;
      this.observe?.(e);
    });
    try {
      const conn = await this.opening;
      if (this.closed) {
        await conn.close();
        throw new Error('consumer closed');
      }
      this.blocking = conn;
      return conn;
    } finally {
      this.opening = undefined;
    }
  }

  private callOn(conn: Transport, args: string[], signal: AbortSignal | undefined): Promise<unknown> {
    return abortable(conn.call(args), signal, () => {
      // The blocked command cannot be taken back: drop its connection.
      if (this.blocking === conn) this.blocking = undefined;
      conn.destroy?.();
    });
  }

  // The stream or the group was deleted under us (or lost with a server that restarted
  // without persistence): create it again and retry once.
  private async withGroup<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      if (!(err instanceof SwarmError && err.code === 'NOGROUP')) throw err;
      await this.ensureGroup();
      return op();
    }
  }

  private decodeRead(reply: unknown): Message<P>[] {
    if (reply === null || reply === undefined) return [];
    const out: Message<P>[] = [];
    // RESP2: [[stream, entries]]; RESP3: {stream: entries} (or a Map).
    const streams: unknown[][] = Array.isArray(reply)
      ? reply.map((s) => arr(s))
      : reply instanceof Map
        ? [...reply.entries()]
        : Object.entries(reply as object);
    for (const [name, entries] of streams) {
      for (const e of arr(entries)) {
        const [id, fields] = arr(e);
        if (fields === null || fields === undefined) continue;
        out.push(decodeStreamEntry<P>(str(name), str(id), fields));
      }
    }
    return out;
  }
}

