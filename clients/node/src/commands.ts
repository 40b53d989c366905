/**
 * Every swarm command once, as data: how its arguments are written (`args`), where its key
 * is (`key`, an index into args), whether it only reads, and how its reply is decoded
 * (`decode`, accepting RESP2 and RESP3 shapes). The Swarm wrapper, the node-redis module
 * (`swarm` below) and the ioredis commands (`swarm-redis/ioredis`) are all built from this
 * table, so the three shapes cannot drift apart.
 *
 * node-redis 5 defines module commands as `{ parseCommand(parser, ...args),
 * transformReply(reply) }` (see @redis/json); `swarm` is that shape:
 *
 *   const client = await createClient({ modules: { swarm } }).connect();
 *   await client.swarm.publish('swarm:ops', 'task.done', { task: 't-17' });
 *   await client.multi().swarm.routeAdd('swarm:ops', 'task.>', 'stream:log').swarm.routeStats('swarm:ops').exec();
 */
import { editText, n, toJSONText, type EditOp, type GetOptions, type JsonInput, type PublishOptions, type RawJSON,
  type RouteAddOptions, type Versioned } from './args.js';
import {
  arr,
  decodeEdit,
  decodeInfo,
  decodePublish,
  decodeRoute,
  decodeRule,
  decodeStats,
  decodeStatsPage,
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
  type StatsPage,
  type VersionEntry,
} from './reply.js';

export interface CommandSpec<A extends unknown[], R> {
  /** The full argument list, command name first. */
  args(...a: A): string[];
  /** Index of the key in args; -1 for a keyless command. */
  key: number;
  readOnly: boolean;
  decode(reply: unknown): R;
}

function spec<A extends unknown[], R>(s: CommandSpec<A, R>): CommandSpec<A, R> {
  return s;
}

function getArgs(key: string, opts: GetOptions = {}): string[] {
  const args = ['SWARM.SNAPSHOT', 'GET', key];
  if (opts.version !== undefined) args.push('VERSION', n(opts.version));
  if (opts.path !== undefined) args.push('PATH', opts.path);
  return args;
}

function ifVersion(args: string[], opts: { ifVersion?: Num }): string[] {
  if (opts.ifVersion !== undefined) args.push('IFVERSION', n(opts.ifVersion));
  return args;
}

function parseOrUndefined(v: unknown): unknown {
  return v === null || v === undefined ? undefined : JSON.parse(str(v));
}

export function decodeWithVersion(reply: unknown): Versioned<unknown> {
  if (reply === null || reply === undefined) return { version: 0, doc: undefined };
  const [v, text] = arr(reply);
  return { version: num(v ?? 0), doc: parseOrUndefined(text) };
}

export const COMMANDS = {
  publish: spec({
    key: 1,
    readOnly: false,
    args: (key: string, type: string, payload: JsonInput, opts: PublishOptions = {}) => {
      const args = ['SWARM.PUBLISH', key, type, toJSONText(payload)];
      if (opts.priority !== undefined) args.push('PRIORITY', n(opts.priority));
      if (opts.sender !== undefined) args.push('SENDER', opts.sender);
      if (opts.msgid !== undefined) args.push('MSGID', opts.msgid);
      if (opts.replyTo !== undefined) args.push('REPLYTO', opts.replyTo);
      return args;
    },
    decode: (r): PublishResult => decodePublish(r),
  }),
  routeAdd: spec({
    key: 2,
    readOnly: false,
    args: (key: string, pattern: string, target: string, opts: RouteAddOptions = {}) => {
      const args = ['SWARM.ROUTE', 'ADD', key, pattern, target];
      if (opts.regex) args.push('REGEX');
      if (opts.priority) args.push('PRIORITY', n(opts.priority[0]), n(opts.priority[1]));
      return args;
    },
    decode: num,
  }),
  routeDel: spec({
    key: 2,
    readOnly: false,
    args: (key: string, ...ids: Num[]) => ['SWARM.ROUTE', 'DEL', key, ...ids.map(n)],
    decode: num,
  }),
  routeList: spec({
    key: 2,
    readOnly: true,
    args: (key: string) => ['SWARM.ROUTE', 'LIST', key],
    decode: (r): Route[] => arr(r).map(decodeRoute),
  }),
  routeMatch: spec({
    key: 2,
    readOnly: true,
    args: (key: string, type: string, opts: { priority?: Num } = {}) => {
      const args = ['SWARM.ROUTE', 'MATCH', key, type];
      if (opts.priority !== undefined) args.push('PRIORITY', n(opts.priority));
      return args;
    },
    decode: (r): string[] => arr(r).map(str),
  }),
  routeAllow: spec({
    key: 2,
    readOnly: false,
    args: (key: string, regex: string) => ['SWARM.ROUTE', 'ALLOW', key, regex],
    decode: num,
  }),
  routeDeny: spec({
    key: 2,
    readOnly: false,
    args: (key: string, regex: string) => ['SWARM.ROUTE', 'DENY', key, regex],
    decode: num,
  }),
  routeRules: spec({
    key: 2,
    readOnly: true,
    args: (key: string) => ['SWARM.ROUTE', 'RULES', key],
    decode: (r): Rule[] => arr(r).map(decodeRule),
  }),
  routeSetDefault: spec({
    key: 2,
    readOnly: false,
    args: (key: string, target: string | null) => ['SWARM.ROUTE', 'DEFAULT', key, target ?? 'NONE'],
    decode: (): void => undefined,
  }),
  routeStats: spec({
    key: 2,
    readOnly: true,
    args: (key: string) => ['SWARM.ROUTE', 'STATS', key],
    decode: (r): Stats => decodeStats(r),
  }),
  /** SWARM.STATS: one page of every table's counters (iterate with the returned cursor). */
  stats: spec({
    key: -1,
    readOnly: true,
    args: (cursor: Num = 0, opts: { count?: Num } = {}) => {
      const args = ['SWARM.STATS', n(cursor)];
      if (opts.count !== undefined) args.push('COUNT', n(opts.count));
      return args;
    },
    decode: (r): StatsPage => decodeStatsPage(r),
  }),
  snapshotSave: spec({
    key: 2,
    readOnly: false,
    args: (key: string, doc: JsonInput, opts: { ifVersion?: Num; keep?: Num } = {}) => {
      const args = ifVersion(['SWARM.SNAPSHOT', 'SAVE', key, toJSONText(doc)], opts);
      if (opts.keep !== undefined) args.push('KEEP', n(opts.keep));
      return args;
    },
    decode: num,
  }),
  snapshotGet: spec({
    key: 2,
    readOnly: true,
    args: (key: string, opts?: GetOptions) => getArgs(key, opts),
    decode: parseOrUndefined,
  }),
  snapshotGetText: spec({
    key: 2,
    readOnly: true,
    args: (key: string, opts?: GetOptions) => getArgs(key, opts),
    decode: strOrNull,
  }),
  snapshotGetWithVersion: spec({
    key: 2,
    readOnly: true,
    args: (key: string, opts: { path?: string } = {}) => [...getArgs(key, opts), 'WITHVERSION'],
    decode: decodeWithVersion,
  }),
  snapshotPatch: spec({
    key: 2,
    readOnly: false,
    args: (key: string, mergePatch: JsonInput, opts: { ifVersion?: Num } = {}) =>
      ifVersion(['SWARM.SNAPSHOT', 'PATCH', key, toJSONText(mergePatch)], opts),
    decode: num,
  }),
  snapshotEdit: spec({
    key: 2,
    readOnly: false,
    args: (key: string, ops: readonly EditOp[] | RawJSON, opts: { ifVersion?: Num } = {}) =>
      ifVersion(['SWARM.SNAPSHOT', 'EDIT', key, editText(ops)], opts),
    decode: (r): EditResult => decodeEdit(r),
  }),
  /** Blocks the connection it runs on: the Swarm wrapper runs it on a connection of its own. */
  snapshotWait: spec({
    key: 2,
    readOnly: true,
    args: (key: string, version: Num, timeoutMs: Num) => ['SWARM.SNAPSHOT', 'WAIT', key, n(version), n(timeoutMs)],
    decode: (r): number | null => (r === null || r === undefined ? null : num(r)),
  }),
  snapshotDiff: spec({
    key: 2,
    readOnly: true,
    args: (key: string, from: Num, to?: Num) => {
      const args = ['SWARM.SNAPSHOT', 'DIFF', key, n(from)];
      if (to !== undefined) args.push(n(to));
      return args;
    },
    decode: str,
  }),
  snapshotList: spec({
    key: 2,
    readOnly: true,
    args: (key: string) => ['SWARM.SNAPSHOT', 'LIST', key],
    decode: (r): VersionEntry[] => arr(r).map(decodeVersionEntry),
  }),
  snapshotRestore: spec({
    key: 2,
    readOnly: false,
    args: (key: string, version: Num) => ['SWARM.SNAPSHOT', 'RESTORE', key, n(version)],
    decode: num,
  }),
  snapshotInfo: spec({
    key: 2,
    readOnly: true,
    args: (key: string) => ['SWARM.SNAPSHOT', 'INFO', key],
    decode: (r): SnapshotInfo => decodeInfo(r),
  }),
};

export type SwarmCommandName = keyof typeof COMMANDS;

export type ArgsOf<N extends SwarmCommandName> = Parameters<(typeof COMMANDS)[N]['args']>;
export type ReplyOf<N extends SwarmCommandName> = ReturnType<(typeof COMMANDS)[N]['decode']>;

/** The part of node-redis's CommandParser used here. */
export interface CommandParserLike {
  push(...args: string[]): unknown;
  pushKey(key: string): unknown;
}

/** One command in node-redis's module-command shape. */
export interface NodeRedisCommand<A extends unknown[], R> {
  readonly IS_READ_ONLY: boolean;
  readonly parseCommand: (this: void, parser: CommandParserLike, ...args: A) => void;
  readonly transformReply: (this: void, reply: unknown) => R;
}

export type SwarmModule = {
  readonly [N in SwarmCommandName]: NodeRedisCommand<ArgsOf<N>, ReplyOf<N>>;
};

function nodeRedisCommand<A extends unknown[], R>(s: CommandSpec<A, R>): NodeRedisCommand<A, R> {
  return {
    IS_READ_ONLY: s.readOnly,
    parseCommand(parser, ...a) {
      const args = s.args(...a);
      if (s.key < 0) {
        parser.push(...args);
        return;
      }
      parser.push(...args.slice(0, s.key));
      parser.pushKey(args[s.key]!);
      parser.push(...args.slice(s.key + 1));
    },
    transformReply: (reply) => s.decode(reply),
  };
}

/**
 * The swarm commands as a node-redis 5 module: `createClient({ modules: { swarm } })` gives
 * `client.swarm.publish(...)`, `client.swarm.routeAdd(...)`, ... on the client, in
 * `multi()` and in pipelines. Errors are the driver's own (ErrorReply); toSwarmError(err)
 * gives the SwarmError class of their code word.
 */
export const swarm: SwarmModule = Object.fromEntries(
  Object.entries(COMMANDS).map(([name, s]) => [name, nodeRedisCommand(s as CommandSpec<unknown[], unknown>)]),
) as unknown as SwarmModule;
