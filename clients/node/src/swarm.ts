/**
 * The typed command API: Swarm wraps a node-redis or ioredis client and exposes every
 * SWARM.ROUTE, SWARM.PUBLISH and SWARM.SNAPSHOT command as a method with typed options and
 * a plain typed reply. Numbers (and bigints) are accepted wherever the command takes one.
 *
 * The client stays the application's. Swarm opens connections of its own (duplicate()) for
 * what blocks: a subscription, a consumer's blocking reads, each WAIT. Those are owned and
 * healed (transport.ts): an outage is reported through onConnection / on('connection'),
 * never thrown at the process or printed, and each is closed when its user is done.
 */
import {
  n,
  toJSONText,
  type EditOp,
  type GetOptions,
  type JsonInput,
  type PublishOptions,
  type RawJSON,
  type ReplicasOptions,
  type RouteAddOptions,
  type Versioned,
} from './args.js';
import { COMMANDS, decodeWithVersion, type ArgsOf, type ReplyOf, type SwarmCommandName } from './commands.js';
import { CommandError } from './errors.js';
import { StreamConsumer, type ConsumerOptions } from './consumer.js';
import type { AckedVersion, EditResult, Num, PublishResult, Route, Rule, SnapshotInfo, Stats, StatsPage, TableStats, VersionEntry } from './reply.js';
import { Inbox, encodeReply, parseTarget, RequestTimeoutError, type Reply } from './request.js';
import type { Message } from './message.js';
import { State, type StateOptions } from './state.js';
import { Subscription, type SubscribeOptions } from './subscription.js';
import {
  abortable,
  eitherSignal,
  onAbort,
  healing,
  toTransport,
  type AnyClient,
  type ConnectionEvent,
  type ConnectionObserver,
  type Transport,
} from './transport.js';

export { RawJSON, rawJSON, toJSONText, n } from './args.js';
export { RequestTimeoutError, type Reply } from './request.js';
export type { EditOp, GetOptions, JsonInput, PublishOptions, ReplicasOptions, RouteAddOptions, Versioned } from './args.js';

async function run<N extends SwarmCommandName>(t: Transport, name: N, ...args: ArgsOf<N>): Promise<ReplyOf<N>> {
  const c = COMMANDS[name] as unknown as { args(...a: unknown[]): string[]; decode(r: unknown): ReplyOf<N> };
  return c.decode(await t.call(c.args(...args)));
}

type WithReplicas = ReplicasOptions & { replicas: Num };

/**
 * The write, then `WAIT replicas timeout` right behind it on the same connection (both sent
 * before either answer arrives: one round trip): the write's decoded reply and the number of
 * replicas that acknowledged it. A write that fails rejects with its error.
 */
async function runAcked<N extends SwarmCommandName>(
  t: Transport,
  repl: WithReplicas,
  name: N,
  ...args: ArgsOf<N>
): Promise<{ reply: ReplyOf<N>; acked: number }> {
  const c = COMMANDS[name] as unknown as { args(...a: unknown[]): string[]; decode(r: unknown): ReplyOf<N> };
  const write = t.call(c.args(...args));
  const wait = t.call(['WAIT', n(repl.replicas), n(repl.replicasTimeoutMs ?? 1000)]);
  const [w, a] = await Promise.allSettled([write, wait]);
  if (w.status === 'rejected') throw w.reason;
  if (a.status === 'rejected') throw a.reason;
  return { reply: c.decode(w.value), acked: Number(a.value) };
}

function wantsReplicas<T extends ReplicasOptions>(opts: T): opts is T & WithReplicas {
  return opts.replicas !== undefined;
}

export class RouteCommands {
  constructor(private readonly t: Transport) {}

  /** SWARM.ROUTE ADD: the route id (the existing id for an identical route). */
  add(key: string, pattern: string, target: string, opts: RouteAddOptions = {}): Promise<number> {
    return run(this.t, 'routeAdd', key, pattern, target, opts);
  }

  /** SWARM.ROUTE DEL: how many routes or rules were removed. */
  del(key: string, ...ids: Num[]): Promise<number> {
    return run(this.t, 'routeDel', key, ...ids);
  }

  list(key: string): Promise<Route[]> {
    return run(this.t, 'routeList', key);
  }

  /** SWARM.ROUTE MATCH: the targets a publish would reach (a dry run). */
  match(key: string, type: string, opts: { priority?: Num } = {}): Promise<string[]> {
    return run(this.t, 'routeMatch', key, type, opts);
  }

  allow(key: string, regex: string): Promise<number> {
    return run(this.t, 'routeAllow', key, regex);
  }

  deny(key: string, regex: string): Promise<number> {
    return run(this.t, 'routeDeny', key, regex);
  }

  rules(key: string): Promise<Rule[]> {
    return run(this.t, 'routeRules', key);
  }

  /** SWARM.ROUTE DEFAULT: sets the dead-letter target, or clears it with null. */
  setDefault(key: string, target: string | null): Promise<void> {
    return run(this.t, 'routeSetDefault', key, target);
  }

  stats(key: string): Promise<Stats> {
    return run(this.t, 'routeStats', key);
  }

  async help(): Promise<string[]> {
    return (await this.t.call(['SWARM.ROUTE', 'HELP']) as unknown[]).map(String);
  }
}

export interface WaitOptions {
  /** Cancels the wait: the promise rejects with the signal's reason; its connection is dropped. */
  signal?: AbortSignal;
}

export interface WatchOptions extends WaitOptions {
  /** Yield versions above this one (default: the head when the watch starts). */
  after?: Num;
}

export class SnapshotCommands {
  private withVersion: boolean | undefined;

  constructor(
    private readonly t: Transport,
    private readonly observe?: ConnectionObserver,
  ) {}

  /**
   * SWARM.SNAPSHOT SAVE: the new version. `ifVersion: 0` means "only if the key is new".
   * With `replicas`: `{ version, acked }` after Redis's WAIT (see ReplicasOptions).
   */
  save(key: string, doc: JsonInput, opts: { ifVersion?: Num; keep?: Num } & WithReplicas): Promise<AckedVersion>;
  save(key: string, doc: JsonInput, opts?: { ifVersion?: Num; keep?: Num } & ReplicasOptions): Promise<number>;
  async save(
    key: string,
    doc: JsonInput,
    opts: { ifVersion?: Num; keep?: Num } & ReplicasOptions = {},
  ): Promise<number | AckedVersion> {
    if (!wantsReplicas(opts)) return run(this.t, 'snapshotSave', key, doc, opts);
    const { reply, acked } = await runAcked(this.t, opts, 'snapshotSave', key, doc, opts);
    return { version: reply, acked };
  }

  /** SWARM.SNAPSHOT GET as JSON text; null when the key or the path is absent. */
  getText(key: string, opts: GetOptions = {}): Promise<string | null> {
    return run(this.t, 'snapshotGetText', key, opts);
  }

  /** SWARM.SNAPSHOT GET, parsed; undefined when the key or the path is absent. */
  async get<T = unknown>(key: string, opts: GetOptions = {}): Promise<T | undefined> {
    return (await run(this.t, 'snapshotGet', key, opts)) as T | undefined;
  }

  /**
   * The head document and its version, read atomically: `GET ... WITHVERSION` where the
   * module has it, otherwise INFO for the head followed by `GET VERSION <head>`, which is
   * that exact version's text however many writes happen in between (retried if that
   * version has already been evicted).
   */
  async getWithVersion<T = unknown>(key: string, opts: { path?: string } = {}): Promise<Versioned<T>> {
    if (this.withVersion !== false) {
      try {
        const reply = await this.t.call(COMMANDS.snapshotGetWithVersion.args(key, opts));
        this.withVersion = true;
        return decodeWithVersion(reply) as Versioned<T>;
      } catch (err) {
        if (!(err instanceof CommandError && err.detail === 'syntax error')) throw err;
        this.withVersion = false;
      }
    }
    for (let attempt = 0; ; attempt++) {
      let head: number;
      try {
        head = (await this.info(key)).head;
      } catch (err) {
        if (err instanceof CommandError && err.detail === 'no such key') return { version: 0, doc: undefined };
        throw err;
      }
      try {
        return { version: head, doc: await this.get<T>(key, { ...opts, version: head }) };
      } catch (err) {
        // Evicted or the key was replaced between the two reads: read again.
        if (attempt < 100 && (err as { code?: string }).code === 'NOVERSION') continue;
        throw err;
      }
    }
  }

  /** Whether this server's SWARM.SNAPSHOT GET takes WITHVERSION (probed once, cached). */
  async supportsWithVersion(): Promise<boolean> {
    if (this.withVersion === undefined) await this.getWithVersion('\u0000swarm:probe');
    return this.withVersion === true;
  }

  /**
   * SWARM.SNAPSHOT PATCH (RFC 7396 merge patch): the new version. With `replicas`:
   * `{ version, acked }`.
   */
  patch(key: string, mergePatch: JsonInput, opts: { ifVersion?: Num } & WithReplicas): Promise<AckedVersion>;
  patch(key: string, mergePatch: JsonInput, opts?: { ifVersion?: Num } & ReplicasOptions): Promise<number>;
  async patch(
    key: string,
    mergePatch: JsonInput,
    opts: { ifVersion?: Num } & ReplicasOptions = {},
  ): Promise<number | AckedVersion> {
    if (!wantsReplicas(opts)) return run(this.t, 'snapshotPatch', key, mergePatch, opts);
    const { reply, acked } = await runAcked(this.t, opts, 'snapshotPatch', key, mergePatch, opts);
    return { version: reply, acked };
  }

  /**
   * SWARM.SNAPSHOT EDIT (RFC 6902 JSON Patch plus `incr`): new version and incr results
   * (and `acked` with `replicas`).
   */
  async edit(
    key: string,
    ops: readonly EditOp[] | RawJSON,
    opts: { ifVersion?: Num } & ReplicasOptions = {},
  ): Promise<EditResult> {
    if (!wantsReplicas(opts)) return run(this.t, 'snapshotEdit', key, ops, opts);
    const { reply, acked } = await runAcked(this.t, opts, 'snapshotEdit', key, ops, opts);
    return { ...reply, acked };
  }

  /**
   * SWARM.SNAPSHOT WAIT: resolves once the head version is above `version` with the new
   * head (0 if the key went away), or null after `timeoutMs` (0 waits forever, as the
   * command does). It runs on a connection of its own, so the shared client never waits
   * behind it; if that connection is lost, the wait goes on after the reconnection.
   */
  async wait(key: string, version: Num, timeoutMs: Num, opts: WaitOptions = {}): Promise<number | null> {
    opts.signal?.throwIfAborted();
    const conn = await this.t.duplicate('wait', this.observe);
    try {
      return await waitOn(conn, key, version, Number(timeoutMs), opts.signal);
    } finally {
      await conn.close();
    }
  }

  /**
   * The versions of a key as they are written: an async iterator over WAIT on one
   * connection of its own (writes between two WAITs are seen as one step). Leaving the loop
   * or aborting the signal closes that connection.
   */
  async *watch(key: string, opts: WatchOptions = {}): AsyncGenerator<number, void, undefined> {
    opts.signal?.throwIfAborted();
    let after: Num = opts.after ?? (await this.getWithVersion(key)).version;
    const conn = await this.t.duplicate('wait', this.observe);
    try {
      for (;;) {
        const head = await waitOn(conn, key, after, 0, opts.signal);
        if (head === null) continue;
        yield head;
        after = head;
      }
    } finally {
      await conn.close();
    }
  }

  /** SWARM.SNAPSHOT DIFF: the merge patch from `from` to `to` (head by default), as text. */
  diff(key: string, from: Num, to?: Num): Promise<string> {
    return run(this.t, 'snapshotDiff', key, from, to);
  }

  list(key: string): Promise<VersionEntry[]> {
    return run(this.t, 'snapshotList', key);
  }

  /** SWARM.SNAPSHOT RESTORE: a new head equal to version v; the new version (`{ version, acked }` with `replicas`). */
  restore(key: string, version: Num, opts: WithReplicas): Promise<AckedVersion>;
  restore(key: string, version: Num, opts?: ReplicasOptions): Promise<number>;
  async restore(key: string, version: Num, opts: ReplicasOptions = {}): Promise<number | AckedVersion> {
    if (!wantsReplicas(opts)) return run(this.t, 'snapshotRestore', key, version);
    const { reply, acked } = await runAcked(this.t, opts, 'snapshotRestore', key, version);
    return { version: reply, acked };
  }

  /** SWARM.SNAPSHOT INFO; CommandError `ERR no such key` for a missing key. */
  info(key: string): Promise<SnapshotInfo> {
    return run(this.t, 'snapshotInfo', key);
  }

  async help(): Promise<string[]> {
    return (await this.t.call(['SWARM.SNAPSHOT', 'HELP']) as unknown[]).map(String);
  }
}

/**
 * WAIT on an owned connection, healed across reconnections. A finite timeout is also kept
 * on this side (the server cannot answer while it is down): at the deadline the connection
 * is dropped and the answer is null.
 */
async function waitOn(
  conn: Transport,
  key: string,
  version: Num,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<number | null> {
  const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new AbortController();
  if (deadline) {
    // A little after the server's own timeout, so a server that is up answers first.
    timer = setTimeout(() => expired.abort(), timeoutMs + 250);
  }
  const { signal: either, dispose } = eitherSignal(signal, expired.signal);
  try {
    return await healing(conn, either, () => {
      const left = deadline ? deadline - Date.now() : 0;
      if (deadline && left <= 0) return Promise.resolve(null);
      const p = conn.call(COMMANDS.snapshotWait.args(key, version, deadline ? left : 0));
      return abortable(p, either, () => conn.destroy?.()).then(COMMANDS.snapshotWait.decode);
    });
  } catch (err) {
    if (expired.signal.aborted && !signal?.aborted) return null;
    throw err;
  } finally {
    clearTimeout(timer);
    dispose();
  }
}

export interface SwarmOptions {
  /**
   * Called when a connection Swarm opened (subscription, consumer, WAIT) loses its server
   * (`down`, once per outage) and when it is ready again (`up`). Swarm heals them itself;
   * this is for the application to log or alert. Also available as on('connection', fn).
   */
  onConnection?: ConnectionObserver;
}

export interface RequestOptions {
  /** How long to wait for the first reply, in ms (default 30000); then RequestTimeoutError. */
  timeoutMs?: number;
  /** Cancels the request: it rejects with the signal's reason; a reply that comes later is late. */
  signal?: AbortSignal;
  priority?: Num;
  sender?: string;
  msgid?: string;
}

export interface ReplyOptions {
  /** The `sender` of the reply envelope. */
  sender?: string;
}

/** What reply() sent: `receivers` for a channel reply target (PUBLISH), `entryId` for a stream. */
export interface ReplySent {
  target: string;
  receivers?: number;
  entryId?: string;
}

export class Swarm {
  readonly transport: Transport;
  readonly route: RouteCommands;
  readonly snapshot: SnapshotCommands;
  private readonly observers = new Set<ConnectionObserver>();
  private inbox: Promise<Inbox> | undefined;
  private inboxOpen: Inbox | undefined;

  constructor(client: AnyClient, opts: SwarmOptions = {}) {
    this.transport = toTransport(client);
    if (opts.onConnection) this.observers.add(opts.onConnection);
    this.route = new RouteCommands(this.transport);
    this.snapshot = new SnapshotCommands(this.transport, this.observe);
  }

  /** Observes the connections Swarm opened: see SwarmOptions.onConnection. */
  on(event: 'connection', listener: ConnectionObserver): this {
    if (event !== 'connection') throw new TypeError(`unknown event '${String(event)}'`);
    this.observers.add(listener);
    return this;
  }

  off(event: 'connection', listener: ConnectionObserver): this {
    if (event === 'connection') this.observers.delete(listener);
    return this;
  }

  private readonly observe = (e: ConnectionEvent): void => {
    for (const o of this.observers) {
      try {
        o(e);
      } catch {
        // an observer's failure must not break the connection handling
      }
    }
  };

  /**
   * SWARM.PUBLISH. `payload` is any JSON value (or rawJSON(text)). The reply's `lost` lists
   * the targets that were shed, missed or failed (empty on servers without that element).
   * With `replicas`, Redis's WAIT follows in the same round trip and `acked` says how many
   * replicas acknowledged the message.
   */
  async publish(
    key: string,
    type: string,
    payload: JsonInput,
    opts: PublishOptions & ReplicasOptions = {},
  ): Promise<PublishResult> {
    if (!wantsReplicas(opts)) return run(this.transport, 'publish', key, type, payload, opts);
    const { reply, acked } = await runAcked(this.transport, opts, 'publish', key, type, payload, opts);
    return { ...reply, acked };
  }

  /**
   * SWARM.STATS: one page of every table's counters in the current database. Start with
   * cursor 0 and pass the returned cursor on until it is '0' again (or use statsAll()).
   */
  stats(cursor: Num = 0, opts: { count?: Num } = {}): Promise<StatsPage> {
    return run(this.transport, 'stats', cursor, opts);
  }

  /** Every table's counters: SWARM.STATS iterated to its end, one page per call. */
  async *statsAll(opts: { count?: Num } = {}): AsyncGenerator<{ key: string; stats: TableStats }, void, undefined> {
    let cursor = '0';
    do {
      const page = await this.stats(cursor, opts);
      yield* page.tables;
      cursor = page.cursor;
    } while (cursor !== '0');
  }

  /**
   * Subscribes, on a new connection, to the swarm's channel targets (from SWARM.ROUTE LIST,
   * plus its DEFAULT target when that is a channel, unless `channels` names them). Resolves
   * once the server confirmed the subscription, so nothing published afterwards is missed.
   */
  async subscribe<P = unknown>(key: string, opts: SubscribeOptions = {}): Promise<Subscription<P>> {
    let channels = opts.channels;
    if (!channels) {
      const targets = (await this.route.list(key)).map((r) => r.target);
      if (opts.includeDefault !== false) {
        const d = (await this.route.stats(key)).default;
        if (d) targets.push(d);
      }
      channels = [...new Set(targets.filter((t) => t.startsWith('channel:')).map((t) => t.slice(8)))];
    }
    if (channels.length === 0) throw new Error(`swarm '${key}' has no channel targets to subscribe to`);
    return Subscription.open<P>(this.transport, channels, this.observe, opts.signal);
  }

  /** A consumer-group reader for one stream target (see StreamConsumer). */
  consumer<P = unknown>(opts: ConsumerOptions): StreamConsumer<P> {
    return new StreamConsumer<P>(this.transport, opts, this.observe);
  }

  /** A handle on one snapshot key with an atomic get() and a compare-and-set update(). */
  state<T = unknown>(key: string, opts: StateOptions = {}): State<T> {
    return new State<T>(this.snapshot, key, opts);
  }

  /**
   * Publishes a request (`REPLYTO` this Swarm's inbox) and resolves with its first reply, or
   * rejects with RequestTimeoutError after `timeoutMs`, or with the signal's reason once it
   * aborts. The inbox is one connection of its own, opened by the first request (close()
   * frees it), with one channel per routing table, `swarm.inbox.<uuid>.<n>`, subscribed
   * once; every request of this Swarm shares it and replies are matched by the channel and
   * the request's message id (ids are unique per table).
   */
  async request<R = unknown>(
    key: string,
    type: string,
    payload: JsonInput,
    opts: RequestOptions = {},
  ): Promise<Reply<R>> {
    const { signal } = opts;
    signal?.throwIfAborted();
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const inbox = await this.openInbox();
    const channel = await inbox.channel(key);
    signal?.throwIfAborted();
    const pubOpts: PublishOptions = { replyTo: `channel:${channel}` };
    if (opts.priority !== undefined) pubOpts.priority = opts.priority;
    if (opts.sender !== undefined) pubOpts.sender = opts.sender;
    if (opts.msgid !== undefined) pubOpts.msgid = opts.msgid;
    return new Promise<Reply<R>>((resolve, reject) => {
      let done = false;
      let id = '';
      const finish = (): boolean => {
        if (done) return false;
        done = true;
        clearTimeout(timer);
        unlisten?.();
        if (id) inbox.cancel(channel, id);
        return true;
      };
      const timer = setTimeout(() => {
        if (finish()) reject(new RequestTimeoutError(id, timeoutMs));
      }, timeoutMs);
      const unlisten = signal
        ? onAbort(signal, () => {
            if (finish()) reject(signal.reason);
          })
        : undefined;
      inbox.beginPublish();
      run(this.transport, 'publish', key, type, payload, pubOpts).then(
        (r) => {
          if (done) {
            inbox.endPublish(channel, undefined, () => undefined);
            return;
          }
          id = r.id;
          inbox.endPublish(channel, id, (reply) => {
            if (finish()) resolve(reply as Reply<R>);
          });
        },
        (err: unknown) => {
          inbox.endPublish(channel, undefined, () => undefined);
          if (finish()) reject(err);
        },
      );
    });
  }

  /**
   * Answers a message that carries `replyTo`: sends the reply envelope
   * `{"corr":<message id>,"ts":<now>,"sender":..,"payload":..}` to that target, with PUBLISH
   * for `channel:<name>` and with XADD (fields corr, ts, [sender], payload) for
   * `stream:<key>`. Throws a TypeError for a message without `replyTo`.
   */
  async reply(message: Pick<Message, 'id' | 'replyTo'>, payload: JsonInput, opts: ReplyOptions = {}): Promise<ReplySent> {
    if (message.replyTo === undefined) throw new TypeError(`message ${message.id} has no replyTo`);
    const target = parseTarget(message.replyTo);
    const text = toJSONText(payload);
    const ts = Date.now();
    if (target.kind === 'channel') {
      const receivers = await this.transport.call(['PUBLISH', target.name, encodeReply(message.id, text, ts, opts.sender)]);
      return { target: message.replyTo, receivers: Number(receivers) };
    }
    const fields = ['corr', message.id, 'ts', String(ts)];
    if (opts.sender !== undefined) fields.push('sender', opts.sender);
    fields.push('payload', text);
    const entryId = await this.transport.call(['XADD', target.name, '*', ...fields]);
    return { target: message.replyTo, entryId: String(entryId) };
  }

  /** Replies that came for no waiting request (timed out, aborted, or a second reply): dropped. */
  get lateReplies(): number {
    return this.inboxOpen?.late ?? 0;
  }

  /**
   * The inbox's channels subscribed so far (names without `channel:`): one per routing table
   * that requests went through, `swarm.inbox.<uuid>.<n>`.
   */
  get inboxChannels(): readonly string[] {
    return this.inboxOpen?.channelNames ?? [];
  }

  private openInbox(): Promise<Inbox> {
    if (!this.inbox) {
      const opening = Inbox.open(this.transport, this.observe).then((i) => (this.inboxOpen = i));
      this.inbox = opening;
      opening.catch(() => {
        if (this.inbox === opening) this.inbox = undefined;
      });
    }
    return this.inbox;
  }

  /**
   * Frees the connections this Swarm keeps for itself (the request inbox); requests still
   * waiting get no reply any more (they time out). The client you gave it stays open. Subscriptions and consumers close on
   * their own.
   */
  async close(): Promise<void> {
    const opening = this.inbox;
    this.inbox = undefined;
    this.inboxOpen = undefined;
    if (!opening) return;
    try {
      await (await opening).close();
    } catch {
      // it never opened
    }
  }

  /** Sends any command through the same transport and error mapping. */
  call(...args: Array<string | Num>): Promise<unknown> {
    return this.transport.call(args.map((a) => (typeof a === 'string' ? a : n(a))));
  }
}

