/**
 * LangGraph's own conformance suite (@langchain/langgraph-checkpoint-validation) against
 * SwarmSaver on a real server, once per client: getTuple, list, put, putWrites and
 * deleteThread, and the opt-in getDeltaChannelHistory suite. Each checkpointer gets its own
 * key prefix and deletes its keys afterwards.
 */
import { inject } from 'vitest';
import {
  deltaChannelHistoryTests,
  validate,
  type CheckpointSaverTestInitializer,
} from '@langchain/langgraph-checkpoint-validation';
import { SwarmSaver } from '../src/index.js';
import { CLIENTS, type Opened } from './server.js';

const port = inject('redisPort');
let seq = 0;

for (const kind of CLIENTS) {
  let opened: Opened | undefined;
  const initializer: CheckpointSaverTestInitializer<SwarmSaver> = {
    checkpointerName: `SwarmSaver (${kind.name})`,
    async beforeAll() {
      opened = await kind.open(port);
    },
    async afterAll() {
      await opened?.close();
    },
    createCheckpointer() {
      return new SwarmSaver(opened!.client as never, { prefix: `val:${process.pid}:${++seq}:` });
    },
    async destroyCheckpointer(saver) {
      let cursor = '0';
      do {
        const [next, keys] = (await saver.swarm.call('SCAN', cursor, 'MATCH', `${saver.prefix}*`, 'COUNT', 1000)) as [
          string,
          string[],
        ];
        cursor = String(next);
        if (keys.length > 0) await saver.swarm.call('DEL', ...keys);
      } while (cursor !== '0');
    },
  };
  validate<SwarmSaver>(initializer);
  deltaChannelHistoryTests(initializer);
}
