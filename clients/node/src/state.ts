/**
 * A handle on one snapshot key: get() reads the document and its version atomically;
 * update(fn) is the compare-and-set loop:
 *
 *   read (doc, v) -> next = fn(doc, v) -> SAVE next IFVERSION v
 *     CONFLICT -> wait a jittered, exponentially growing delay, read again (bounded)
 *
 * A missing key reads as (undefined, 0) and is created with IFVERSION 0, so two writers
 * racing to create it cannot both win.
 */
import { ConflictError } from './errors.js';
import type { Num } from './reply.js';
import type { JsonInput, SnapshotCommands, Versioned } from './swarm.js';

export interface StateOptions {
  /** Retries after the first attempt before the ConflictError is thrown (default 50). */
  retries?: number;
  /** First backoff ceiling in ms (default 2); doubles per retry up to maxDelayMs. */
  baseDelayMs?: number;
  /** Backoff ceiling in ms (default 200). The delay is uniform in [0, ceiling] ("full jitter"). */
  maxDelayMs?: number;
  /** KEEP for the saves (default: the key's setting). */
  keep?: Num;
}

export interface UpdateResult<T> {
  doc: T;
  version: number;
  /** Attempts made, 1 when there was no conflict. */
  attempts: number;
}

/** Returned by an update function to leave the document as it is. */
export const UNCHANGED: unique symbol = Symbol('swarm.unchanged');

export class State<T = unknown> {
  readonly retries: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly keep: Num | undefined;

  constructor(
    private readonly snap: SnapshotCommands,
    readonly key: string,
    opts: StateOptions = {},
  ) {
    this.retries = opts.retries ?? 50;
    this.baseDelayMs = opts.baseDelayMs ?? 2;
    this.maxDelayMs = opts.maxDelayMs ?? 200;
    this.keep = opts.keep;
  }

  /** The head document and its version (0 and undefined when the key does not exist). */
  get(): Promise<Versioned<T>> {
    return this.snap.getWithVersion<T>(this.key);
  }

  /**
   * Applies fn to the current document and saves the result if nobody wrote in between,
   * retrying on CONFLICT. fn may run several times; it should have no side effects, and may
   * return UNCHANGED to write nothing. After `retries` retries the last ConflictError is
   * thrown, with `.attempts` set.
   */
  async update(
    fn: (doc: T | undefined, version: number) => T | typeof UNCHANGED | Promise<T | typeof UNCHANGED>,
  ): Promise<UpdateResult<T>> {
    for (let attempt = 1; ; attempt++) {
      const { doc, version } = await this.get();
      const next = await fn(doc, version);
      if (next === UNCHANGED) return { doc: doc as T, version, attempts: attempt };
      try {
        const opts: { ifVersion: Num; keep?: Num } = { ifVersion: version };
        if (this.keep !== undefined) opts.keep = this.keep;
        const v = await this.snap.save(this.key, next as JsonInput, opts);
        return { doc: next, version: v, attempts: attempt };
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
        if (attempt > this.retries) {
          err.attempts = attempt;
          throw err;
        }
        const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
        await sleep(Math.random() * ceiling);
      }
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
