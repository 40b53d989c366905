/**
 * Error classes, one per code word of the module's error replies, all under SwarmError.
 *
 * The module starts every error with a code word (`CONFLICT version is 2, expected 1`).
 * toSwarmError() turns a client library's reply error into the class registered for its
 * word in ERROR_CLASSES. `code` is typed as the union of the words swarm and Redis send
 * (ErrorCode), so a switch over it is checked by the compiler. A reply whose first word is
 * not in that union becomes a CommandError (`code` 'ERR') keeping the reply as its message.
 * `unknown command 'SWARM.*'` becomes a ModuleMissingError: the server has no swarm module.
 * Connection errors and anything else that is not an error reply pass through unchanged.
 */

/** The code words swarm writes (SWARM.* commands). */
export type SwarmCode =
  | 'ERR'
  | 'WRONGTYPE'
  | 'EVENTTYPE'
  | 'DENIED'
  | 'PAYLOAD'
  | 'NOSWARM'
  | 'CONFLICT'
  | 'NOVERSION'
  | 'CROSSSLOT'
  | 'TESTFAILED'
  | 'NOPATH'
  | 'BADOP'
  | 'TYPE'
  | 'OOM'
  | 'BUSYKEY';

/** Code words of Redis's own errors that the helpers here can meet (streams, ACL, cluster). */
export type RedisCode =
  | 'BUSYGROUP'
  | 'NOGROUP'
  | 'NOPERM'
  | 'NOAUTH'
  | 'WRONGPASS'
  | 'READONLY'
  | 'LOADING'
  | 'BUSY'
  | 'MASTERDOWN'
  | 'MISCONF'
  | 'EXECABORT'
  | 'NOSCRIPT'
  | 'CLUSTERDOWN'
  | 'MOVED'
  | 'ASK'
  | 'TRYAGAIN'
  | 'NOREPLICAS'
  | 'UNBLOCKED';

export type ErrorCode = SwarmCode | RedisCode;

const KNOWN_CODES: ReadonlySet<string> = new Set<ErrorCode>([
  'ERR', 'WRONGTYPE', 'EVENTTYPE', 'DENIED', 'PAYLOAD', 'NOSWARM', 'CONFLICT', 'NOVERSION',
  'CROSSSLOT', 'TESTFAILED', 'NOPATH', 'BADOP', 'TYPE', 'OOM', 'BUSYKEY', 'BUSYGROUP', 'NOGROUP',
  'NOPERM', 'NOAUTH', 'WRONGPASS', 'READONLY', 'LOADING', 'BUSY', 'MASTERDOWN', 'MISCONF',
  'EXECABORT', 'NOSCRIPT', 'CLUSTERDOWN', 'MOVED', 'ASK', 'TRYAGAIN', 'NOREPLICAS', 'UNBLOCKED',
]);

export interface SwarmErrorOptions {
  cause?: unknown;
  /** The message, when it is not `${code} ${detail}`. */
  message?: string;
}

export class SwarmError extends Error {
  /** The code word the reply started with: `ERR`, `CONFLICT`, ... */
  readonly code: ErrorCode;
  /** The reply's text after the code word. */
  readonly detail: string;

  constructor(code: ErrorCode, detail: string, options?: SwarmErrorOptions) {
    super(options?.message ?? `${code} ${detail}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.detail = detail;
  }
}

/** `ERR`: syntax, arity, ranges, bad targets or regexes, `ERR no such key`. */
export class CommandError extends SwarmError {
  declare readonly code: 'ERR';
}

/**
 * `ERR unknown command 'SWARM.PUBLISH' ...`: the server answering has no swarm module
 * loaded. `.command` is the command it did not know.
 */
export class ModuleMissingError extends CommandError {
  readonly command: string;
  constructor(code: ErrorCode, detail: string, options?: SwarmErrorOptions) {
    const command = moduleCommand(detail) ?? 'SWARM.*';
    super(code, detail, {
      ...options,
      message: `the swarm module is not loaded on this server (it answered: ${code} ${detail}); ` +
        'start redis-server with --loadmodule /path/to/swarm.so',
    });
    this.command = command;
  }
}

/** `WRONGTYPE`: the key holds another kind of value. */
export class WrongTypeError extends SwarmError {
  declare readonly code: 'WRONGTYPE';
}

/** `EVENTTYPE`: a bad event type or subject pattern. `.offset` is the byte named, if any. */
export class EventTypeError extends SwarmError {
  declare readonly code: 'EVENTTYPE';
  readonly offset: number | null;
  constructor(code: ErrorCode, detail: string, options?: SwarmErrorOptions) {
    super(code, detail, options);
    this.offset = intAfter(detail, /\(byte (\d+)\)|at byte (\d+)/);
  }
}

/** `DENIED`: an admission rule refused the event type. `.ruleId` is null for "no ALLOW rule". */
export class DeniedError extends SwarmError {
  declare readonly code: 'DENIED';
  readonly ruleId: number | null;
  constructor(code: ErrorCode, detail: string, options?: SwarmErrorOptions) {
    super(code, detail, options);
    this.ruleId = intAfter(detail, /by rule (\d+)/);
  }
}

/** `PAYLOAD`: bad or oversized JSON. `.offset` is the byte offset (null for "too big"). */
export class PayloadError extends SwarmError {
  declare readonly code: 'PAYLOAD';
  readonly offset: number | null;
  constructor(code: ErrorCode, detail: string, options?: SwarmErrorOptions) {
    super(code, detail, options);
    this.offset = intAfter(detail, /at byte (\d+)/);
  }
}

/** `NOSWARM`: no routing table at the key (a misspelled swarm name). */
export class NoSwarmError extends SwarmError {
  declare readonly code: 'NOSWARM';
  readonly key: string | null;
  constructor(code: ErrorCode, detail: string, options?: SwarmErrorOptions) {
    super(code, detail, options);
    const m = /at key '(.*)'$/s.exec(detail);
    this.key = m ? m[1]! : null;
  }
}

/** `CONFLICT`: IFVERSION did not match. `.current` is the head (0: no key), `.expected` yours. */
export class ConflictError extends SwarmError {
  declare readonly code: 'CONFLICT';
  readonly current: number | null;
  readonly expected: number | null;
  /** Set by State.update when it gives up: how many attempts it made. */
  attempts?: number;
  constructor(code: ErrorCode, detail: string, options?: SwarmErrorOptions) {
    super(code, detail, options);
    const m = /version is (\d+), expected (\d+)/.exec(detail);
    this.current = m ? Number(m[1]) : null;
    this.expected = m ? Number(m[2]) : null;
  }
}

/** `NOVERSION`: the snapshot version asked for is not retained. `.version` is that version. */
export class NoVersionError extends SwarmError {
  declare readonly code: 'NOVERSION';
  readonly version: number | null;
  constructor(code: ErrorCode, detail: string, options?: SwarmErrorOptions) {
    super(code, detail, options);
    this.version = intAfter(detail, /^version (\d+)/);
  }
}

/** `CROSSSLOT`: (cluster) a stream target outside the routing table's slot. */
export class CrossSlotError extends SwarmError {
  declare readonly code: 'CROSSSLOT';
}

/** EDIT's failures name the op by its 0-based index: `.op` (null when no op is named). */
abstract class EditError extends SwarmError {
  readonly op: number | null;
  constructor(code: ErrorCode, detail: string, options?: SwarmErrorOptions) {
    super(code, detail, options);
    this.op = intAfter(detail, /^op (\d+)/);
  }
}

/** `TESTFAILED`: a `test` op of EDIT did not hold. `.path` is the pointer it tested. */
export class TestFailedError extends EditError {
  declare readonly code: 'TESTFAILED';
  readonly path: string | null;
  constructor(code: ErrorCode, detail: string, options?: SwarmErrorOptions) {
    super(code, detail, options);
    const m = /at '(.*)'$/s.exec(detail);
    this.path = m ? m[1]! : null;
  }
}

/** `NOPATH`: an EDIT op's `path` or `from` names nothing that can be written. */
export class NoPathError extends EditError {
  declare readonly code: 'NOPATH';
}

/** `BADOP`: EDIT's ops are not a well-formed JSON Patch. */
export class BadOpError extends EditError {
  declare readonly code: 'BADOP';
}

/** `TYPE`: an EDIT `incr` on a non-integer, a non-integer value, or an int64 overflow. */
export class EditTypeError extends EditError {
  declare readonly code: 'TYPE';
}

/** `OOM`: refused because of `maxmemory`, or the module ran out of memory. */
export class OutOfMemoryError extends SwarmError {
  declare readonly code: 'OOM';
}

export type SwarmErrorClass = new (code: ErrorCode, detail: string, options?: SwarmErrorOptions) => SwarmError;

/**
 * Code word -> class. A word of ErrorCode without an entry gives a plain SwarmError carrying
 * the word; registerErrorCode() sets the class of a word.
 */
export const ERROR_CLASSES: Map<ErrorCode, SwarmErrorClass> = new Map<ErrorCode, SwarmErrorClass>([
  ['ERR', CommandError],
  ['WRONGTYPE', WrongTypeError],
  ['EVENTTYPE', EventTypeError],
  ['DENIED', DeniedError],
  ['PAYLOAD', PayloadError],
  ['NOSWARM', NoSwarmError],
  ['CONFLICT', ConflictError],
  ['NOVERSION', NoVersionError],
  ['CROSSSLOT', CrossSlotError],
  ['TESTFAILED', TestFailedError],
  ['NOPATH', NoPathError],
  ['BADOP', BadOpError],
  ['TYPE', EditTypeError],
  ['OOM', OutOfMemoryError],
]);

export function registerErrorCode(code: ErrorCode, cls: SwarmErrorClass): void {
  ERROR_CLASSES.set(code, cls);
}

function moduleCommand(detail: string): string | null {
  const m = /^unknown command [`'"]?(swarm\.[a-z|]+)/i.exec(detail);
  return m ? m[1]!.toUpperCase() : null;
}

/** Builds the error for one reply text, e.g. `DENIED event type 'x' is denied by rule 4`. */
export function errorFromReply(text: string, cause?: unknown): SwarmError {
  const m = /^([A-Z][A-Z0-9_-]*)(?: ([\s\S]*))?$/.exec(text);
  if (!m || !KNOWN_CODES.has(m[1]!)) return new CommandError('ERR', text, { cause, message: text });
  const code = m[1] as ErrorCode;
  const detail = m[2] ?? '';
  if (code === 'ERR' && moduleCommand(detail) !== null) return new ModuleMissingError(code, detail, { cause });
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
