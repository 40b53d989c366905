/**
 * Argument helpers shared by every command shape (the Swarm wrapper, the node-redis module
 * and the ioredis commands): JSON values to text, numbers to decimal strings.
 */
import type { Num } from './reply.js';

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

/**
 * One RFC 6902 operation, or the `incr` extension: a discriminated union on `op`, so a
 * misspelled op or a missing `from`/`value` does not compile.
 */
export type EditOp =
  | { op: 'add'; path: string; value: unknown }
  | { op: 'replace'; path: string; value: unknown }
  | { op: 'test'; path: string; value: unknown }
  | { op: 'remove'; path: string }
  | { op: 'move'; from: string; path: string }
  | { op: 'copy'; from: string; path: string }
  | { op: 'incr'; path: string; value: number | bigint };

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

export interface PublishOptions {
  /** 1 to 9 (default 5); 8 and 9 are critical. */
  priority?: Num;
  sender?: string;
  /**
   * An id of your own (1 to 128 bytes): a publish whose MSGID the table still remembers
   * delivers nothing and answers the original message's id with `duplicate: true`.
   */
  msgid?: string;
  /** Where a receiver should reply (`channel:<name>` or `stream:<key>`), carried as `reply_to`. */
  replyTo?: string;
}

/**
 * Wait for replicas after a write: Redis's `WAIT replicas timeoutMs`, sent right behind the
 * write on the same connection (one round trip). The result's `acked` says how many replicas
 * acknowledged it.
 */
export interface ReplicasOptions {
  /** How many replicas must acknowledge the write. */
  replicas?: Num;
  /** How long WAIT waits for them, in ms (default 1000; 0 waits forever). */
  replicasTimeoutMs?: Num;
}

export interface RouteAddOptions {
  regex?: boolean;
  priority?: [Num, Num];
}

export function editText(ops: readonly EditOp[] | RawJSON): string {
  return ops instanceof RawJSON ? ops.text : JSON.stringify(ops, bigintReplacer);
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
