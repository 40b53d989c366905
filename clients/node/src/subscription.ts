/**
 * A pub/sub subscription to a swarm's channel targets as an async iterator of Messages.
 * It owns a connection of its own (pub/sub takes a connection over); close(), an aborted
 * signal or leaving a `for await` loop unsubscribes, closes it and ends the iteration.
 * Messages that arrive while nobody iterates are queued.
 *
 * The connection is healed: after an outage the driver reconnects and subscribes to the
 * same channels again (node-redis and ioredis both re-send the subscriptions they hold);
 * messages published while it was down are not received (pub/sub keeps nothing), which is
 * what a stream target is for.
 */
import { decodeEnvelope, type Message } from './message.js';
import { onAbort, type ConnectionObserver, type Transport } from './transport.js';

export interface SubscribeOptions {
  /** Channel names (without `channel:`) instead of the table's channel targets. */
  channels?: string[];
  /** Also subscribe to the DEFAULT target when it is a channel (default true). */
  includeDefault?: boolean;
  /** Closes the subscription when aborted; a pending next() rejects with the signal's reason. */
  signal?: AbortSignal;
}

interface Waiter<P> {
  resolve(r: IteratorResult<Message<P>>): void;
  reject(err: unknown): void;
}

export class Subscription<P = unknown> implements AsyncIterable<Message<P>> {
  private queue: Message<P>[] = [];
  private waiters: Waiter<P>[] = [];
  private closed = false;
  private failure: { reason: unknown } | undefined;
  private unlisten: (() => void) | undefined;
  /** Envelopes that failed to decode (not JSON): counted, not thrown into the iterator. */
  undecodable = 0;

  private constructor(
    private readonly conn: Transport,
    readonly channels: readonly string[],
  ) {}

  static async open<P>(
    base: Transport,
    channels: string[],
    observe?: ConnectionObserver,
    signal?: AbortSignal,
  ): Promise<Subscription<P>> {
    signal?.throwIfAborted();
    const conn = await base.duplicate('subscription', observe);
    const sub = new Subscription<P>(conn, channels);
    try {
      await conn.subscribe(channels, (channel, text) => sub.push(channel, text));
    } catch (err) {
      await conn.close();
      throw err;
    }
    if (signal) {
      const abort = (): void => {
        sub.failure = { reason: signal.reason };
        void sub.close();
      };
      if (signal.aborted) abort();
      else sub.unlisten = onAbort(signal, abort);
    }
    return sub;
  }

  /** Whether close() was called (or the signal aborted). */
  get isClosed(): boolean {
    return this.closed;
  }

  private push(channel: string, text: string): void {
    if (this.closed) return;
    let m: Message<P>;
    try {
      m = decodeEnvelope<P>(text, channel);
    } catch {
      this.undecodable++;
      return;
    }
    const w = this.waiters.shift();
    if (w) w.resolve({ value: m, done: false });
    else this.queue.push(m);
  }

  /** The next message; done once closed (rejects with the signal's reason once aborted). */
  next(): Promise<IteratorResult<Message<P>>> {
    if (this.failure) return Promise.reject(this.failure.reason);
    const m = this.queue.shift();
    if (m) return Promise.resolve({ value: m, done: false });
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  [Symbol.asyncIterator](): AsyncIterator<Message<P>> {
    return {
      next: () => this.next(),
      return: async () => {
        await this.close();
        return { value: undefined, done: true };
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unlisten?.();
    this.queue = [];
    for (const w of this.waiters.splice(0)) {
      if (this.failure) w.reject(this.failure.reason);
      else w.resolve({ value: undefined, done: true });
    }
    try {
      if (this.conn.isReady !== false) await this.conn.unsubscribe(this.channels);
    } catch {
      // the connection is going away anyway
    } finally {
      await this.conn.close();
    }
  }
}
