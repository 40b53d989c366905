/**
 * One Message type for both delivery paths:
 *
 *   channel envelope  {"id":..,"swarm":..,"type":..,"priority":5,"ts":..,"sender":..,"msgid":..,
 *                      "reply_to":..,"payload":<json>}
 *   stream entry      fields id [swarm] type priority ts payload [sender] [msgid] [reply_to],
 *                     all strings
 *
 * Numbers become numbers, the payload is parsed, and its exact text is kept in
 * `payloadText` (the envelope embeds it verbatim, so it is cut out of the envelope rather
 * than re-serialised). A message read from a stream keeps the entry id for XACK.
 */
import { record, str } from './reply.js';

export interface Message<P = unknown> {
  /** The swarm message id, `<unix-ms>-<seq>`. */
  id: string;
  /** The routing table's key. Stream entries written by older module builds lack it. */
  swarm?: string;
  type: string;
  priority: number;
  ts: number;
  sender?: string;
  /** The publisher's MSGID, when it gave one. */
  msgid?: string;
  /** Where to reply (`channel:<name>` or `stream:<key>`), when the publisher asked for one. */
  replyTo?: string;
  payload: P;
  /** The payload's exact JSON text. */
  payloadText: string;
  /** Set for messages received on a pub/sub channel. */
  channel?: string;
  /** Set for messages read from a stream: the stream key. */
  stream?: string;
  /** Set for messages read from a stream: the entry id to XACK (not always `id`). */
  entryId?: string;
}

const PAYLOAD_KEY = ',"payload":';

/** Decodes a channel envelope. */
export function decodeEnvelope<P = unknown>(text: string, channel?: string): Message<P> {
  const env = JSON.parse(text) as Record<string, unknown>;
  // `"payload":` cannot occur earlier unescaped: every string before it is JSON-escaped.
  const at = text.indexOf(PAYLOAD_KEY);
  const payloadText = at >= 0 ? text.slice(at + PAYLOAD_KEY.length, -1) : JSON.stringify(env['payload']);
  const m: Message<P> = {
    id: str(env['id']),
    type: str(env['type']),
    priority: Number(env['priority']),
    ts: Number(env['ts']),
    payload: env['payload'] as P,
    payloadText,
  };
  if (typeof env['swarm'] === 'string') m.swarm = env['swarm'];
  if (typeof env['sender'] === 'string') m.sender = env['sender'];
  if (typeof env['msgid'] === 'string') m.msgid = env['msgid'];
  if (typeof env['reply_to'] === 'string') m.replyTo = env['reply_to'];
  if (channel !== undefined) m.channel = channel;
  return m;
}

/** Decodes a stream entry (fields as a flat array, a Map or an object). */
export function decodeStreamEntry<P = unknown>(stream: string, entryId: string, fields: unknown): Message<P> {
  const f = record(fields);
  const payloadText = str(f['payload']);
  const m: Message<P> = {
    id: f['id'] === undefined ? entryId : str(f['id']),
    type: str(f['type']),
    priority: Number(str(f['priority'])),
    ts: Number(str(f['ts'])),
    payload: JSON.parse(payloadText) as P,
    payloadText,
    stream,
    entryId,
  };
  if (f['swarm'] !== undefined) m.swarm = str(f['swarm']);
  if (f['sender'] !== undefined) m.sender = str(f['sender']);
  if (f['msgid'] !== undefined) m.msgid = str(f['msgid']);
  if (f['reply_to'] !== undefined) m.replyTo = str(f['reply_to']);
  return m;
}

/** Decodes either form: a string is an envelope, anything else a stream entry's fields. */
export function decodeMessage<P = unknown>(
  input: string | { stream: string; entryId: string; fields: unknown },
): Message<P> {
  return typeof input === 'string'
    ? decodeEnvelope<P>(input)
    : decodeStreamEntry<P>(input.stream, input.entryId, input.fields);
}
