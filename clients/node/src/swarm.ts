/**
 * The typed command API: Swarm wraps a node-redis or ioredis client and exposes every
 * SWARM.ROUTE, SWARM.PUBLISH and SWARM.SNAPSHOT command as a method with typed options and
 * a plain typed reply. Numbers (and bigints) are accepted wherever the command takes one.
 */
import { CommandError } from './errors.js';
import { StreamConsumer, type ConsumerOptions } from './consumer.js';
import {
  arr,
  decodeEdit,
  decodeInfo,
  decodePublish,
  decodeRoute,
  decodeRule,
  decodeStats,
  decodeVersionEntry,
  num,
  str,
  strOrNull,
  type EditResult,
  type Num,
  type PublishResult,
  type Route,
  type Rule,
  type SnapshotInfo,
  type Stats,
  type VersionEntry,
} from './reply.js';
import { State, type StateOptions } from './state.js';
import { Subscription, type SubscribeOptions } from './subscription.js';
import { toTransport, type AnyClient, type Transport } from './transport.js';

/** JSON text to send as is (keeps number formatting such as `12.50`). */
export class RawJSON {
  constructor(readonly text: string) {}
}

/** Marks a string as JSON text, sent verbatim instead of being JSON.stringify'd. */
export function rawJSON(text: string): RawJSON {
  return new RawJSON(text);
}

/** Any JSON value (serialised with JSON.stringify) or RawJSON. */
export type JsonInput = unknown;

export function toJSONText(v: JsonInput): string {
  if (v instanceof RawJSON) return v.text;
  const s = JSON.stringify(v);
  if (s === undefined) throw new TypeError('value is not representable as JSON');
  return s;
}

export function n(v: Num): string {
  if (typeof v === 'number' && !Number.isFinite(v)) throw new RangeError(`not a finite number: ${v}`);
  return String(v);
}

/** One RFC 6902 operation, or the `incr` extension. */
export type EditOp =
  | { op: 'add' | 'replace' | 'test'; path: string; value: unknown }
  | { op: 'remove'; path: string }
  | { op: 'move' | 'copy'; from: string; path: string }
  | { op: 'incr'; path: string; value: number | bigint }
  | { op: string; path: string; [k: string]: unknown };

export interface GetOptions {
  version?: Num;
  path?: string;
}

export interface Versioned<T> {
  /** The head version; 0 when the key does not exist. */
  version: number;
  /** The document (or the value at `path`); undefined when the key or the path is absent. */
  doc: T | undefined;
}

export class RouteCommands {
  constructor(private readonly t: Transport) {}

  /** SWARM.ROUTE ADD: the route id (the existing id for an identical route). */
  async add(
    key: string,
    pattern: string,
    target: string,
    opts: { regex?: boolean; priority?: [Num, Num] } = {},
  ): Promise<number> {
    const args = ['SWARM.ROUTE', 'ADD', key, pattern, target];
    if (opts.regex) args.push('REGEX');
    if (opts.priority) args.push('PRIORITY', n(opts.priority[0]), n(opts.priority[1]));
    return num(await this.t.call(args));
  }

  /** SWARM.ROUTE DEL: how many routes or rules were removed. */
  async del(key: string, ...ids: Num[]): Promise<number> {
    return num(await this.t.call(['SWARM.ROUTE', 'DEL', key, ...ids.map(n)]));
  }

  async list(key: string): Promise<Route[]> {
    return arr(await this.t.call(['SWARM.ROUTE', 'LIST', key])).map(decodeRoute);
  }

  /** SWARM.ROUTE MATCH: the targets a publish would reach (a dry run). */
  async match(key: string, type: string, opts: { priority?: Num } = {}): Promise<string[]> {
    const args = ['SWARM.ROUTE', 'MATCH', key, type];
    if (opts.priority !== undefined) args.push('PRIORITY', n(opts.priority));
    return arr(await this.t.call(args)).map(str);
  }

  async allow(key: string, regex: string): Promise<number> {
    return num(await this.t.call(['SWARM.ROUTE', 'ALLOW', key, regex]));
  }

  async deny(key: string, regex: string): Promise<number> {
    return num(await this.t.call(['SWARM.ROUTE', 'DENY', key, regex]));
  }

  async rules(key: string): Promise<Rule[]> {
    return arr(await this.t.call(['SWARM.ROUTE', 'RULES', key])).map(decodeRule);
  }

  /** SWARM.ROUTE DEFAULT: sets the dead-letter target, or clears it with null. */
  async setDefault(key: string, target: string | null): Promise<void> {
    await this.t.call(['SWARM.ROUTE', 'DEFAULT', key, target ?? 'NONE']);
  }

  async stats(key: string): Promise<Stats> {
    return decodeStats(await this.t.call(['SWARM.ROUTE', 'STATS', key]));
  }

  async help(): Promise<string[]> {
    return arr(await this.t.call(['SWARM.ROUTE', 'HELP'])).map(str);
  }
}

export class SnapshotCommands {
  private withVersion: boolean | undefined;

  constructor(private readonly t: Transport) {}

  /** SWARM.SNAPSHOT SAVE: the new version. `ifVersion: 0` means "only if the key is new". */
  async save(key: string, doc: JsonInput, opts: { ifVersion?: Num; keep?: Num } = {}): Promise<number> {
    const args = ['SWARM.SNAPSHOT', 'SAVE', key, toJSONText(doc)];
    if (opts.ifVersion !== undefined) args.push('IFVERSION', n(opts.ifVersion));
    if (opts.keep !== undefined) args.push('KEEP', n(opts.keep));
    return num(await this.t.call(args));
  }

  /** SWARM.SNAPSHOT GET as JSON text; null when the key or the path is absent. */
  async getText(key: string, opts: GetOptions = {}): Promise<string | null> {
    return strOrNull(await this.t.call(getArgs(key, opts)));
  }

  /** SWARM.SNAPSHOT GET, parsed; undefined when the key or the path is absent. */
  async get<T = unknown>(key: string, opts: GetOptions = {}): Promise<T | undefined> {
    const text = await this.getText(key, opts);
    return text === null ? undefined : (JSON.parse(text) as T);
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
        const reply = await this.t.call([...getArgs(key, opts), 'WITHVERSION']);
        this.withVersion = true;
        if (reply === null || reply === undefined) return { version: 0, doc: undefined };
        const [v, text] = arr(reply);
        return { version: num(v ?? 0), doc: text === null || text === undefined ? undefined : (JSON.parse(str(text)) as T) };
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

  /** SWARM.SNAPSHOT PATCH (RFC 7396 merge patch): the new version. */
  async patch(key: string, mergePatch: JsonInput, opts: { ifVersion?: Num } = {}): Promise<number> {
    const args = ['SWARM.SNAPSHOT', 'PATCH', key, toJSONText(mergePatch)];
    if (opts.ifVersion !== undefined) args.push('IFVERSION', n(opts.ifVersion));
    return num(await this.t.call(args));
  }

  /** SWARM.SNAPSHOT EDIT (RFC 6902 JSON Patch plus `incr`): new version and incr results. */
  async edit(key: string, ops: EditOp[] | RawJSON, opts: { ifVersion?: Num } = {}): Promise<EditResult> {
    const text = ops instanceof RawJSON ? ops.text : JSON.stringify(ops, bigintReplacer);
    const args = ['SWARM.SNAPSHOT', 'EDIT', key, text];
    if (opts.ifVersion !== undefined) args.push('IFVERSION', n(opts.ifVersion));
    return decodeEdit(await this.t.call(args));
  }

  /**
   * SWARM.SNAPSHOT WAIT: blocks until the head version is above `version`; the new head, or
   * null on timeout (0 waits forever). It blocks this connection: use a dedicated client.
   */
  async wait(key: string, version: Num, timeoutMs: Num): Promise<number | null> {
    const r = await this.t.call(['SWARM.SNAPSHOT', 'WAIT', key, n(version), n(timeoutMs)]);
    return r === null || r === undefined ? null : num(r);
  }

  /** SWARM.SNAPSHOT DIFF: the merge patch from `from` to `to` (head by default), as text. */
  async diff(key: string, from: Num, to?: Num): Promise<string> {
    const args = ['SWARM.SNAPSHOT', 'DIFF', key, n(from)];
    if (to !== undefined) args.push(n(to));
    return str(await this.t.call(args));
  }

  async list(key: string): Promise<VersionEntry[]> {
    return arr(await this.t.call(['SWARM.SNAPSHOT', 'LIST', key])).map(decodeVersionEntry);
  }

  /** SWARM.SNAPSHOT RESTORE: a new head equal to version v; the new version. */
  async restore(key: string, version: Num): Promise<number> {
    return num(await this.t.call(['SWARM.SNAPSHOT', 'RESTORE', key, n(version)]));
  }

  /** SWARM.SNAPSHOT INFO; CommandError `ERR no such key` for a missing key. */
  async info(key: string): Promise<SnapshotInfo> {
    return decodeInfo(await this.t.call(['SWARM.SNAPSHOT', 'INFO', key]));
  }

  async help(): Promise<string[]> {
    return arr(await this.t.call(['SWARM.SNAPSHOT', 'HELP'])).map(str);
  }
}

function getArgs(key: string, opts: GetOptions): string[] {
  const args = ['SWARM.SNAPSHOT', 'GET', key];
  if (opts.version !== undefined) args.push('VERSION', n(opts.version));
  if (opts.path !== undefined) args.push('PATH', opts.path);
  return args;
}

function bigintReplacer(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? rawNumber(v) : v;
}

// JSON.stringify cannot emit a bigint; values above 2^53 lose precision as numbers.
function rawNumber(v: bigint): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new RangeError(`incr value ${v} is beyond 2^53; pass the ops as rawJSON(text)`);
  }
  return Number(v);
}

export class Swarm {
  readonly transport: Transport;
  readonly route: RouteCommands;
  readonly snapshot: SnapshotCommands;

  constructor(client: AnyClient) {
    this.transport = toTransport(client);
    this.route = new RouteCommands(this.transport);
    this.snapshot = new SnapshotCommands(this.transport);
  }

  /**
   * SWARM.PUBLISH. `payload` is any JSON value (or rawJSON(text)). The reply's `lost` lists
   * the targets that were shed, missed or failed (empty on servers without that element).
   */
  async publish(
    key: string,
    type: string,
    payload: JsonInput,
    opts: { priority?: Num; sender?: string } = {},
  ): Promise<PublishResult> {
    const args = ['SWARM.PUBLISH', key, type, toJSONText(payload)];
    if (opts.priority !== undefined) args.push('PRIORITY', n(opts.priority));
    if (opts.sender !== undefined) args.push('SENDER', opts.sender);
    return decodePublish(await this.transport.call(args));
  }

  /**
   * Subscribes, on a new connection, to the swarm's channel targets (from SWARM.ROUTE LIST,
   * plus its DEFAULT target when that is a channel, unless `channels` names them). Resolves
   * once the server confirmed the subscription, so nothing published afterwards is missed.
   */
  async subscribe(key: string, opts: SubscribeOptions = {}): Promise<Subscription> {
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
    return Subscription.open(this.transport, channels);
  }

  /** A consumer-group reader for one stream target (see StreamConsumer). */
  consumer(opts: ConsumerOptions): StreamConsumer {
    return new StreamConsumer(this.transport, opts);
  }

  /** A handle on one snapshot key with an atomic get() and a compare-and-set update(). */
  state<T = unknown>(key: string, opts: StateOptions = {}): State<T> {
    return new State<T>(this.snapshot, key, opts);
  }

  /** Sends any command through the same transport and error mapping. */
  call(...args: Array<string | Num>): Promise<unknown> {
    return this.transport.call(args.map((a) => (typeof a === 'string' ? a : n(a))));
  }
}
