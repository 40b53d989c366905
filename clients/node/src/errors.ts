/**
 * Error classes, one per code word of the module's error replies, all under SwarmError.
 *
 * The module starts every error with a code word (`CONFLICT version is 2, expected 1`).
 * toSwarmError() turns a client library's reply error into the class registered for its
 * word in ERROR_CLASSES; a word with no class becomes a plain SwarmError carrying `.code`.
 * Connection errors and anything else that is not an error reply pass through unchanged.
 */

export class SwarmError extends Error {
  /** The code word the reply started with: `ERR`, `CONFLICT`, ... */
  readonly code: string;
  /** The reply's text after the code word. */
  readonly detail: string;

  constructor(code: string, detail: string, options?: { cause?: unknown }) {
    super(`${code} ${detail}`, options);
    this.name = new.target.name;
    this.code = code;
    this.detail = detail;
  }
}

/** `ERR`: syntax, arity, ranges, bad targets or regexes, `ERR no such key`. */
export class CommandError extends SwarmError {}

/** `WRONGTYPE`: the key holds another kind of value. */
export class WrongTypeError extends SwarmError {}

/** `EVENTTYPE`: a bad event type or subject pattern. `.offset` is the byte named, if any. */
export class EventTypeError extends SwarmError {
  readonly offset: number | null;
  constructor(code: string, detail: string, options?: { cause?: unknown }) {
    super(code, detail, options);
    this.offset = intAfter(detail, /\(byte (\d+)\)|at byte (\d+)/);
  }
}

/** `DENIED`: an admission rule refused the event type. `.ruleId` is null for "no ALLOW rule". */
export class DeniedError extends SwarmError {
  readonly ruleId: number | null;
  constructor(code: string, detail: string, options?: { cause?: unknown }) {
    super(code, detail, options);
    this.ruleId = intAfter(detail, /by rule (\d+)/);
  }
}

/** `PAYLOAD`: bad or oversized JSON. `.offset` is the byte offset (null for "too big"). */
export class PayloadError extends SwarmError {
  readonly offset: number | null;
  constructor(code: string, detail: string, options?: { cause?: unknown }) {
    super(code, detail, options);
    this.offset = intAfter(detail, /at byte (\d+)/);
  }
}

/** `NOSWARM`: no routing table at the key (a misspelled swarm name). */
export class NoSwarmError extends SwarmError {
  readonly key: string | null;
  constructor(code: string, detail: string, options?: { cause?: unknown }) {
    super(code, detail, options);
    const m = /at key '(.*)'$/s.exec(detail);
    this.key = m ? m[1]! : null;
  }
}

/** `CONFLICT`: IFVERSION did not match. `.current` is the head (0: no key), `.expected` yours. */
export class ConflictError extends SwarmError {
  readonly current: number | null;
  readonly expected: number | null;
  /** Set by State.update when it gives up: how many attempts it made. */
  attempts?: number;
  constructor(code: string, detail: string, options?: { cause?: unknown }) {
    super(code, detail, options);
    const m = /version is (\d+), expected (\d+)/.exec(detail);
    this.current = m ? Number(m[1]) : null;
    this.expected = m ? Number(m[2]) : null;
  }
}

/** `NOVERSION`: the snapshot version asked for is not retained. `.version` is that version. */
export class NoVersionError extends SwarmError {
  readonly version: number | null;
  constructor(code: string, detail: string, options?: { cause?: unknown }) {
    super(code, detail, options);
    this.version = intAfter(detail, /^version (\d+)/);
  }
}

/** `CROSSSLOT`: (cluster) a stream target outside the routing table's slot. */
export class CrossSlotError extends SwarmError {}

export type SwarmErrorClass = new (
  code: string,
  detail: string,
  options?: { cause?: unknown },
) => SwarmError;

/**
 * Code word -> class. Add a word with registerErrorCode(); an unknown word still gives a
 * SwarmError whose `.code` is the word.
 */
export const ERROR_CLASSES: Map<string, SwarmErrorClass> = new Map<string, SwarmErrorClass>([
  ['ERR', CommandError],
  ['WRONGTYPE', WrongTypeError],
  ['EVENTTYPE', EventTypeError],
  ['DENIED', DeniedError],
  ['PAYLOAD', PayloadError],
  ['NOSWARM', NoSwarmError],
  ['CONFLICT', ConflictError],
  ['NOVERSION', NoVersionError],
  ['CROSSSLOT', CrossSlotError],
]);

export function registerErrorCode(code: string, cls: SwarmErrorClass): void {
  ERROR_CLASSES.set(code, cls);
}

/** Builds the error for one reply text, e.g. `DENIED event type 'x' is denied by rule 4`. */
export function errorFromReply(text: string, cause?: unknown): SwarmError {
  const m = /^([A-Z][A-Z0-9_-]*)(?: ([\s\S]*))?$/.exec(text);
  if (!m) return new CommandError('ERR', text, { cause });
  const code = m[1]!;
  const detail = m[2] ?? '';
  const cls = ERROR_CLASSES.get(code) ?? SwarmError;
  return new cls(code, detail, { cause });
}

const REPLY_ERROR_NAMES = new Set(['ErrorReply', 'SimpleError', 'BlobError', 'ReplyError']);

/** True for the error-reply classes of node-redis 4/5 (ErrorReply...) and ioredis (ReplyError). */
export function isReplyError(err: unknown): err is Error {
  if (!(err instanceof Error)) return false;
  let proto: object | null = Object.getPrototypeOf(err);
  while (proto && proto !== Error.prototype) {
    if (REPLY_ERROR_NAMES.has(proto.constructor.name)) return true;
    proto = Object.getPrototypeOf(proto);
  }
  return err.name === 'ReplyError';
}

/** Converts a reply error to its SwarmError class; returns anything else unchanged. */
export function toSwarmError(err: unknown): unknown {
  if (err instanceof SwarmError || !isReplyError(err)) return err;
  return errorFromReply(err.message, err);
}

function intAfter(text: string, re: RegExp): number | null {
  const m = re.exec(text);
  if (!m) return null;
  const g = m.slice(1).find((x) => x !== undefined);
  return g === undefined ? null : Number(g);
}
