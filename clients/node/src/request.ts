/**
 * Request/reply over swarm: a request is a publish with `REPLYTO channel:swarm.inbox.<uuid>.<n>`,
 * a reply is the envelope
 *
 *   {"corr":"<request id>","ts":<ms>,"sender":"<id>","payload":<json>}
 *
 * sent to that target (`sender` only when given). Each Swarm has ONE inbox: one connection of
 * its own (healed like a subscription's) with one channel per routing table that requests go
 * through, each subscribed once (message ids are unique per table only, so two tables may
 * issue the same id). Replies are matched to their request by (channel, `corr`), `corr`
 * being the request's message id. Plain channels, not a pattern: a pattern subscription
 * would cost every PUBLISH on the server a match per inbox. The first reply settles a
 * request; a reply for a request that is no longer waiting (it timed out, was aborted, or
 * already had its reply) is dropped and counted in `late`, never handed to another request.
 *
 * A reply can arrive on the inbox connection before the publish's own answer (which carries
 * the id) arrives on the other connection: while publishes are in flight, replies nobody
 * waits for are held, and matched once their request knows its id. What is still held when
 * no publish is in flight any more (or after 30 s) belongs to no request and is counted as
 * late.
 */
import { randomUUID } from 'node:crypto';
import { str } from './reply.js';
import type { ConnectionObserver, Transport } from './transport.js';

/** A reply to a request, as request() resolves it. */
export interface Reply<P = unknown> {
  /** The request's message id. */
  corr: string;
  /** When the reply was sent, unix ms (the responder's clock). */
  ts: number;
  sender?: string;
  payload: P;
  /** The payload's exact JSON text. */
  payloadText: string;
}

/** request() got no reply within its timeout. */
export class RequestTimeoutError extends Error {
  override readonly name = 'RequestTimeoutError';
  readonly code = 'ETIMEDOUT';

  constructor(
    /** The request's message id ('' when the publish itself did not answer in time). */
    readonly requestId: string,
    readonly timeoutMs: number,
  ) {
    super(`no reply to request ${requestId || '(not yet published)'} within ${timeoutMs} ms`);
  }
}

const PAYLOAD_KEY = ',"payload":';

/** The reply envelope's text: keys in the order corr, ts, [sender], payload. */
export function encodeReply(corr: string, payloadText: string, ts: number, sender?: string): string {
  const s = sender === undefined ? '' : `,"sender":${JSON.stringify(sender)}`;
  return `{"corr":${JSON.stringify(corr)},"ts":${ts}${s},"payload":${payloadText}}`;
}

/** Decodes a reply envelope (throws on text that is not one). */
export function decodeReply<P = unknown>(text: string): Reply<P> {
  const env = JSON.parse(text) as Record<string, unknown>;
  if (typeof env['corr'] !== 'string' || !('payload' in env)) throw new TypeError('not a reply envelope');
  const at = text.indexOf(PAYLOAD_KEY);
  const r: Reply<P> = {
    corr: env['corr'],
    ts: Number(env['ts']),
    payload: env['payload'] as P,
    payloadText: at >= 0 ? text.slice(at + PAYLOAD_KEY.length, -1) : JSON.stringify(env['payload']),
  };
  if (typeof env['sender'] === 'string') r.sender = env['sender'];
  return r;
}

/** Replies nobody waits for that are held while publishes are in flight: at most this many, */
const HELD_MAX = 10_000;
/** and for at most this long (a publish answers long before). */
const HELD_MS = 30_000;

export class Inbox {
  /** The channels' common prefix: `swarm.inbox.<uuid>`. */
  readonly prefix: string;
  /** Replies dropped because no request waited for them (late, repeated or unknown). */
  late = 0;
  /** Messages on the inbox channel that were not reply envelopes. */
  undecodable = 0;
  private readonly waiting = new Map<string, (r: Reply) => void>();
  private readonly held = new Map<string, { at: number; reply: Reply }>();
  private readonly channels = new Map<string, Promise<string>>();
  private readonly subscribed: string[] = [];
  private publishing = 0;
  private closed = false;

  private constructor(private readonly conn: Transport) {
    this.prefix = `swarm.inbox.${randomUUID()}`;
  }

  static async open(base: Transport, observe?: ConnectionObserver): Promise<Inbox> {
    return new Inbox(await base.duplicate('inbox', observe));
  }

  /** The channels subscribed so far (names without `channel:`). */
  get channelNames(): readonly string[] {
    return this.subscribed;
  }

  /**
   * The inbox channel of the requests published through `table` (without `channel:`),
   * subscribed (once) before this resolves.
   */
  channel(table: string): Promise<string> {
    if (this.closed) return Promise.reject(new Error('the request inbox is closed'));
    let ch = this.channels.get(table);
    if (!ch) {
      const name = `${this.prefix}.${this.channels.size}`;
      const subscribing = this.conn
        .subscribe([name], (channel, text) => this.receive(channel, text))
        .then(() => {
          this.subscribed.push(name);
          return name;
        });
      ch = subscribing;
      this.channels.set(table, subscribing);
      subscribing.catch(() => {
        if (this.channels.get(table) === subscribing) this.channels.delete(table);
      });
    }
    return ch;
  }

  /** Requests waiting for their reply. */
  get pending(): number {
    return this.waiting.size;
  }

  private receive(channel: string, text: string): void {
    let r: Reply;
    try {
      r = decodeReply(text);
    } catch {
      this.undecodable++;
      return;
    }
    const k = key(channel, r.corr);
    const w = this.waiting.get(k);
    if (w) {
      this.waiting.delete(k);
      w(r);
    } else if (this.publishing > 0 && !this.held.has(k)) {
      const now = Date.now();
      // Oldest first (insertion order): drop what is too old or too many, as late.
      for (const [hk, h] of this.held) {
        if (this.held.size < HELD_MAX && now - h.at < HELD_MS) break;
        this.held.delete(hk);
        this.late++;
      }
      this.held.set(k, { at: now, reply: r });
    } else {
      this.late++;
    }
  }

  /** A request starts publishing: replies that come before its id is known are held. */
  beginPublish(): void {
    this.publishing++;
  }

  /**
   * The request's publish answered (its channel and id) or failed (undefined). With an id,
   * `settle` gets its reply: now if it was held, else when it arrives, until cancel().
   */
  endPublish(channel: string, id: string | undefined, settle: (r: Reply) => void): void {
    this.publishing--;
    if (id !== undefined) {
      const k = key(channel, id);
      const h = this.held.get(k);
      if (h) {
        this.held.delete(k);
        settle(h.reply);
      } else if (!this.closed) {
        this.waiting.set(k, settle);
      }
    }
    if (this.publishing === 0 && this.held.size > 0) {
      this.late += this.held.size;
      this.held.clear();
    }
  }

  /** The request stopped waiting (timeout, abort): a reply that comes now is late. */
  cancel(channel: string, id: string): void {
    this.waiting.delete(key(channel, id));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.waiting.clear();
    this.held.clear();
    try {
      if (this.conn.isReady !== false && this.subscribed.length > 0) await this.conn.unsubscribe(this.subscribed);
    } catch {
      // the connection is going away anyway
    } finally {
      await this.conn.close();
    }
  }
}

function key(channel: string, corr: string): string {
  return `${channel}\n${corr}`;
}

/** The reply target of a message, split into its kind and name. */
export function parseTarget(target: string): { kind: 'channel' | 'stream'; name: string } {
  if (target.startsWith('channel:') && target.length > 8) return { kind: 'channel', name: target.slice(8) };
  if (target.startsWith('stream:') && target.length > 7) return { kind: 'stream', name: target.slice(7) };
  throw new TypeError(`invalid reply target '${str(target)}', expected channel:<name> or stream:<key>`);
}
