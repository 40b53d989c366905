/**
 * A consumer-group reader for a stream target.
 *
 * - The group is created on first use if missing (`XGROUP CREATE <stream> <group> <start>
 *   MKSTREAM`). `start` defaults to `0`: the group then also gets the entries published
 *   before it existed. `$` gives only entries added after the group was created.
 * - read() is XREADGROUP ... `>` (new entries for this consumer); ack() is XACK with the
 *   stream entry ids; reclaim() takes over entries another consumer left pending longer
 *   than `minIdleMs` (XAUTOCLAIM, following its cursor).
 * - A blocking read (blockMs > 0) runs on a connection of its own, so it never stalls other
 *   commands sent through the shared client. close() releases it.
 */
import { SwarmError } from './errors.js';
import { decodeStreamEntry, type Message } from './message.js';
import { arr, num, str, type Num } from './reply.js';
import type { Transport } from './transport.js';

export interface ConsumerOptions {
  /** The stream key, with or without the `stream:` target prefix. */
  stream: string;
  group: string;
  consumer: string;
  /** Where a newly created group starts: `0` (default, every entry) or `$` (new ones only). */
  start?: string;
  /** Entries per read (default 10). */
  count?: Num;
  /** How long read() blocks waiting for entries, in ms (default 1000; 0: do not block). */
  blockMs?: Num;
  /** Pending entries idle this long may be reclaimed (default 30000). */
  minIdleMs?: Num;
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
  private readonly blockMs: string;
  private readonly minIdleMs: string;
  private groupReady = false;
  private blocking: Transport | undefined;
  private closed = false;

  constructor(
    private readonly t: Transport,
    opts: ConsumerOptions,
  ) {
    this.stream = opts.stream.startsWith('stream:') ? opts.stream.slice(7) : opts.stream;
    this.group = opts.group;
    this.name = opts.consumer;
    this.start = opts.start ?? '0';
    this.count = String(opts.count ?? 10);
    this.blockMs = String(opts.blockMs ?? 1000);
    this.minIdleMs = String(opts.minIdleMs ?? 30000);
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

  /** New entries for this consumer (XREADGROUP >); [] when none arrived within blockMs. */
  async read(opts: { count?: Num; blockMs?: Num } = {}): Promise<Message<P>[]> {
    if (!this.groupReady) await this.ensureGroup();
    const block = String(opts.blockMs ?? this.blockMs);
    const args = ['XREADGROUP', 'GROUP', this.group, this.name, 'COUNT', String(opts.count ?? this.count)];
    if (block !== '0') args.push('BLOCK', block);
    args.push('STREAMS', this.stream, '>');
    let conn = this.t;
    if (block !== '0') conn = this.blocking ??= await this.t.duplicate();
    try {
      return this.decodeRead(await conn.call(args));
    } catch (err) {
      // The stream or the group was deleted under us: create it again and retry once.
      if (err instanceof SwarmError && err.code === 'NOGROUP') {
        await this.ensureGroup();
        return this.decodeRead(await conn.call(args));
      }
      throw err;
    }
  }

  /** XACK: acknowledges messages (or entry ids); the number acknowledged. */
  async ack(...items: Array<Message<unknown> | string>): Promise<number> {
    const ids = items.map((m) => (typeof m === 'string' ? m : m.entryId ?? m.id));
    if (ids.length === 0) return 0;
    return num(await this.t.call(['XACK', this.stream, this.group, ...ids]));
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

  /** Reads until close(): yields each new entry; acknowledge with ack(). */
  async *[Symbol.asyncIterator](): AsyncIterator<Message<P>> {
    while (!this.closed) {
      for (const m of await this.read()) yield m;
    }
  }

  /** Stops the iterator (after the read in progress) and closes the blocking connection. */
  async close(): Promise<void> {
    this.closed = true;
    const b = this.blocking;
    this.blocking = undefined;
    if (b) await b.close();
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
