/**
 * A pub/sub subscription to a swarm's channel targets as an async iterator of Messages.
 * It owns a connection of its own (pub/sub takes a connection over); close() unsubscribes,
 * closes it and ends the iteration. Messages that arrive while nobody iterates are queued.
 */
import { decodeEnvelope, type Message } from './message.js';
import type { Transport } from './transport.js';

export interface SubscribeOptions {
  /** Channel names (without `channel:`) instead of the table's channel targets. */
  channels?: string[];
  /** Also subscribe to the DEFAULT target when it is a channel (default true). */
  includeDefault?: boolean;
}

export class Subscription<P = unknown> implements AsyncIterable<Message<P>> {
  private queue: Message<P>[] = [];
  private waiters: Array<(r: IteratorResult<Message<P>>) => void> = [];
  private closed = false;
  /** Envelopes that failed to decode (not JSON): counted, not thrown into the iterator. */
  undecodable = 0;

  private constructor(
    private readonly conn: Transport,
    readonly channels: readonly string[],
  ) {}

  static async open<P>(base: Transport, channels: string[]): Promise<Subscription<P>> {
    const conn = await base.duplicate();
    const sub = new Subscription<P>(conn, channels);
    try {
      await conn.subscribe(channels, (channel, text) => sub.push(channel, text));
    } catch (err) {
      await conn.close();
      throw err;
    }
    return sub;
  }

  private push(channel: string, text: string): void {
    let m: Message<P>;
    try {
      m = decodeEnvelope<P>(text, channel);
    } catch {
      this.undecodable++;
      return;
    }
    const w = this.waiters.shift();
    if (w) w({ value: m, done: false });
    else this.queue.push(m);
  }

  /** The next message, or undefined once closed. */
  next(): Promise<IteratorResult<Message<P>>> {
    const m = this.queue.shift();
    if (m) return Promise.resolve({ value: m, done: false });
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.waiters.push(resolve));
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
    for (const w of this.waiters.splice(0)) w({ value: undefined, done: true });
    try {
      await this.conn.unsubscribe(this.channels);
    } finally {
      await this.conn.close();
    }
  }
}
