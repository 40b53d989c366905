/**
 * swarm-langgraph: a LangGraph checkpoint saver on swarm snapshot histories, over
 * node-redis (4, 5) or ioredis.
 *
 *   import { createClient } from 'redis';
 *   import { SwarmSaver } from 'swarm-langgraph';
 *   const checkpointer = new SwarmSaver(await createClient().connect());
 *   const graph = workflow.compile({ checkpointer });
 */
export { SwarmSaver } from './saver.js';
export type { SwarmSaverOptions } from './saver.js';
export { diff as jsonPatchDiff, applyOps as applyJsonPatch, jsonEqual } from './jsonpatch.js';
export type { Json, Op as JsonPatchOp } from './jsonpatch.js';
