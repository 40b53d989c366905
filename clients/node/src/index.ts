/**
 * swarm-redis: a typed client for the swarm Redis module over node-redis (4, 5; RESP2 and
 * RESP3) or ioredis.
 *
 *   import { createClient } from 'redis';
 *   import { Swarm, swarm } from 'swarm-redis';
 *   const sw = new Swarm(await createClient().connect());
 *   await sw.publish('swarm:ops', 'task.done', { task: 't-17' }, { priority: 8 });
 *
 *   // node-redis 5: the commands as a module, also in multi() and pipelines
 *   const client = await createClient({ modules: { swarm } }).connect();
 *   await client.swarm.publish('swarm:ops', 'task.done', { task: 't-17' });
 *
 * For ioredis commands on the client and in pipeline()/multi(): `swarm-redis/ioredis`.
 */
export { Swarm, RouteCommands, SnapshotCommands, RawJSON, rawJSON, toJSONText } from './swarm.js';
export { RequestTimeoutError, decodeReply, encodeReply } from './request.js';
export type { Reply } from './request.js';
export type {
  EditOp,
  GetOptions,
  JsonInput,
  PublishOptions,
  ReplicasOptions,
  ReplyOptions,
  ReplySent,
  RequestOptions,
  RouteAddOptions,
  SwarmOptions,
  Versioned,
  WaitOptions,
  WatchOptions,
} from './swarm.js';
export { COMMANDS, swarm } from './commands.js';
export type { CommandParserLike, CommandSpec, NodeRedisCommand, SwarmCommandName, SwarmModule } from './commands.js';
export { State, UNCHANGED } from './state.js';
export type { StateOptions, UpdateResult } from './state.js';
export { Subscription } from './subscription.js';
export type { SubscribeOptions } from './subscription.js';
export { StreamConsumer } from './consumer.js';
export type { ConsumerOptions, ReadOptions, ReclaimResult } from './consumer.js';
export { decodeEnvelope, decodeStreamEntry, decodeMessage } from './message.js';
export type { Message } from './message.js';
export type {
  AckedVersion,
  EditResult,
  LossOutcome,
  Num,
  PublishResult,
  Route,
  Rule,
  SnapshotInfo,
  Stats,
  StatsPage,
  TableStats,
  VersionEntry,
} from './reply.js';
export {
  SwarmError,
  CommandError,
  ModuleMissingError,
  WrongTypeError,
  EventTypeError,
  DeniedError,
  PayloadError,
  NoSwarmError,
  ConflictError,
  NoVersionError,
  CrossSlotError,
  TestFailedError,
  NoPathError,
  BadOpError,
  EditTypeError,
  OutOfMemoryError,
  ERROR_CLASSES,
  registerErrorCode,
  errorFromReply,
  toSwarmError,
} from './errors.js';
export type { ErrorCode, RedisCode, SwarmCode, SwarmErrorClass, SwarmErrorOptions } from './errors.js';
export { toTransport } from './transport.js';
export type {
  AnyClient,
  ConnectionEvent,
  ConnectionObserver,
  ConnectionRole,
  IORedisLike,
  NodeRedisLike,
  Transport,
} from './transport.js';
