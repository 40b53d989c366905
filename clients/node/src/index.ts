/**
 * swarm-redis: a typed client for the swarm Redis module over node-redis (4, 5; RESP2 and
 * RESP3) or ioredis.
 *
 *   import { createClient } from 'redis';
 *   import { Swarm } from 'swarm-redis';
 *   const sw = new Swarm(await createClient().connect());
 *   await sw.publish('swarm:ops', 'task.done', { task: 't-17' }, { priority: 8 });
 */
export { Swarm, RouteCommands, SnapshotCommands, RawJSON, rawJSON, toJSONText } from './swarm.js';
export type { EditOp, GetOptions, JsonInput, Versioned } from './swarm.js';
export { State, UNCHANGED } from './state.js';
export type { StateOptions, UpdateResult } from './state.js';
export { Subscription } from './subscription.js';
export type { SubscribeOptions } from './subscription.js';
export { StreamConsumer } from './consumer.js';
export type { ConsumerOptions, ReclaimResult } from './consumer.js';
export { decodeEnvelope, decodeStreamEntry, decodeMessage } from './message.js';
export type { Message } from './message.js';
export type {
  EditResult,
  LossOutcome,
  Num,
  PublishResult,
  Route,
  Rule,
  SnapshotInfo,
  Stats,
  VersionEntry,
} from './reply.js';
export {
  SwarmError,
  CommandError,
  WrongTypeError,
  EventTypeError,
  DeniedError,
  PayloadError,
  NoSwarmError,
  ConflictError,
  NoVersionError,
  CrossSlotError,
  ERROR_CLASSES,
  registerErrorCode,
  errorFromReply,
  toSwarmError,
} from './errors.js';
export type { SwarmErrorClass } from './errors.js';
export { toTransport } from './transport.js';
export type { Transport, AnyClient, NodeRedisLike, IORedisLike } from './transport.js';
