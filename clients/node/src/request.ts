/**
 * Request/reply over swarm: a request is a publish with `REPLYTO channel:swarm.inbox.<uuid>`,
 * a reply is the envelope
 *
 *   {"corr":"<request id>","ts":<ms>,"sender":"<id>","payload":<json>}
 *
 * sent to that target (`sender` only when given). Each Swarm has ONE inbox: a channel
 * subscribed once, on a connection of its own (healed like a subscription's), and replies are
 * matched to their request by `corr`, the request's message id. The first reply settles a
 * request; a reply for a request that is no longer waiting (it timed out, was aborted, or
 * already had its reply) is dropped and counted in `late`, never handed to another request.
 *
 * A reply can arrive on the inbox connection before the publish's own answer (which carries
 * the id) arrives on the other connection: while publishes are in flight, replies nobody
 * waits for are held, and matched once their request knows its id. What is still held when
 * no publish is in flight any more belongs to no request and is counted as late.
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

/** Replies nobody waits for that are held while publishes are in flight, at most this many. */
const HELD_MAX = 10_000;

export class Inbox {
  /** The channel name (without `channel:`). */
  readonly channel: string;
  /** The reply target requests carry: `channel:<channel>`. */
  readonly target: string;
  /** Replies dropped because no request waited for them (late, repeated or unknown). */
  late = 0;
  /** Messages on the inbox channel that were not reply envelopes. */
  undecodable = 0;
  private readonly waiting = new Map<string, (r: Reply) => void>();
  private readonly held = new Map<string, Reply>();
  private publishing = 0;
  private closed = false;

  private constructor(private readonly conn: Transport) {
    this.channel = `swarm.inbox.${randomUUID()}`;
    this.target = `channel:${this.channel}`;
  }

  static async open(base: Transport, observe?: ConnectionObserver): Promise<Inbox> {
    const conn = await base.duplicate('inbox', observe);
    const inbox = new Inbox(conn);
    try {
      await conn.subscribe([inbox.channel], (_channel, text) => inbox.receive(text));
    } catch (err) {
      await conn.close();
      throw err;
    }
    return inbox;
  }

  /** Requests waiting for their reply. */
  get pending(): number {
    return this.waiting.size;
  }

  private receive(text: string): void {
    let r: Reply;
    try {
      r = decodeReply(text);
    } catch {
      this.undecodable++;
      return;
    }
    const w = this.waiting.get(r.corr);
    if (w) {
      this.waiting.delete(r.corr);
      w(r);
    } else if (this.publishing > 0 && !this.held.has(r.corr)) {
      this.held.set(r.corr, r);
      if (this.held.size > HELD_MAX) {
        this.held.delete(this.held.keys().next().value as string);
        this.late++;
      }
    } else {
      this.late++;
    }
  }

  /** A request starts publishing: replies that come before its id is known are held. */
  beginPublish(): void {
    this.publishing++;
  }

  /**
   * The request's publish answered (id) or failed (undefined). With an id, `settle` gets
   * its reply: now if it was held, else when it arrives, until cancel(id).
   */
  endPublish(id: string | undefined, settle: (r: Reply) => void): void {
    this.publishing--;
    if (id !== undefined) {
      const r = this.held.get(id);
      if (r) {
        this.held.delete(id);
        settle(r);
      } else if (!this.closed) {
        this.waiting.set(id, settle);
      }
    }
    if (this.publishing === 0 && this.held.size > 0) {
      this.late += this.held.size;
      this.held.clear();
    }
  }

  /** The request stopped waiting (timeout, abort): a reply that comes now is late. */
  cancel(id: string): void {
    this.waiting.delete(id);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.waiting.clear();
    this.held.clear();
    try {
      if (this.conn.isReady !== false) await this.conn.unsubscribe([this.channel]);
    } catch {
      // the connection is going away anyway
    } finally {
      await this.conn.close();
    }
  }
}

/** The reply target of a message, split into its kind and name. */
export function parseTarget(target: string): { kind: 'channel' | 'stream'; name: string } {
  if (target.startsWith('channel:') && target.length > 8) return { kind: 'channel', name: target.slice(8) };
  if (target.startsWith('stream:') && target.length > 7) return { kind: 'stream', name: target.slice(7) };
  throw new TypeError(`invalid reply target '${str(target)}', expected channel:<name> or stream:<key>`);
}
