// Stream worker: reads its tasks from a stream target through a consumer group, first taking
// over entries a crashed worker left pending, records each task in the shared progress
// snapshot with an atomic EDIT, acknowledges it, and stops on control.stop. The read blocks
// until an entry arrives (blockMs 0, as Redis's BLOCK 0); nothing polls.
//   node stream-worker.mjs <name> <code|review>
import { createClient } from 'redis';
import { Swarm } from 'swarm-redis';

/** @typedef {{ id: string, kind: string }} Task */

const [name = 'coder', kind = 'code'] = process.argv.slice(2);
const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const p = process.env.SWARM_DEMO ?? 'demo';
const client = await createClient({ url }).on('error', (e) => console.error('redis:', e.message)).connect();
const sw = new Swarm(client);
/** @type {import('swarm-redis').State<{ ready?: string[] }>} */
const progress = sw.state(`${p}:progress`);
/** @type {import('swarm-redis').StreamConsumer<Task>} */
const tasks = sw.consumer({ stream: `${p}:${kind}`, group: `${kind}rs`, consumer: name, blockMs: 0 });

await tasks.ensureGroup(); // before registering: nothing published later can be skipped
await progress.update((doc) => ({ ...doc, ready: [...(doc?.ready ?? []), name] }));

/**
 * Does one task; false for the stop message.
 * @param {import('swarm-redis').Message<Task>} msg
 */
async function handle(msg) {
  if (msg.type !== 'control.stop') {
    // ... the work itself would happen here ...
    await sw.snapshot.edit(progress.key, [{ op: 'add', path: `/done/${msg.payload.id}`, value: name }]);
  }
  await tasks.ack(msg);
  return msg.type !== 'control.stop';
}

let running = true;
const stale = await tasks.reclaim({ minIdleMs: 60000 });
for (const msg of stale.messages) running = (await handle(msg)) && running;
if (running) {
  for await (const msg of tasks) {
    if (!(await handle(msg))) break; // leaving the loop closes the consumer's connection
  }
}
await client.close();
