// Stream worker: reads its tasks from a stream target through a consumer group, first taking
// over entries a crashed worker left pending, records each task in the shared progress
// snapshot, acknowledges it, and exits when every task of the run is done.
//   node stream-worker.mjs <name> <code|review>
import { createClient } from 'redis';
import { Swarm } from 'swarm-redis';

const [name = 'coder', kind = 'code'] = process.argv.slice(2);
const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const p = process.env.SWARM_DEMO ?? 'demo';
const client = await createClient({ url }).connect();
const sw = new Swarm(client);
const progress = sw.state(`${p}:progress`);
const tasks = sw.consumer({ stream: `${p}:${kind}`, group: `${kind}rs`, consumer: name, blockMs: 200 });

await tasks.ensureGroup(); // before registering: nothing published later can be skipped
await progress.update((doc) => ({ ...doc, ready: [...(doc?.ready ?? []), name] }));

async function handle(msg) {
  const task = msg.payload;
  // ... the work itself would happen here ...
  await progress.update((doc) => ({ ...doc, done: { ...doc.done, [task.id]: name } }));
  await tasks.ack(msg);
}

const stale = await tasks.reclaim({ minIdleMs: 60000 });
for (const msg of stale.messages) await handle(msg);

for (;;) {
  for (const msg of await tasks.read()) await handle(msg);
  const { doc } = await progress.get();
  if (doc?.total && Object.keys(doc.done).length === doc.total) break;
}
await tasks.close();
await client.close();
