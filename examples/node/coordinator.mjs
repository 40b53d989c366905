// Coordinator: sets up the routes, waits for three workers, hands out 9 tasks and waits until
// the shared progress snapshot shows all of them done. Run it with the workers:
//   node researcher.mjs & node stream-worker.mjs coder code & node stream-worker.mjs reviewer review &
//   node coordinator.mjs
import { createClient } from 'redis';
import { Swarm } from 'swarm-redis';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const p = process.env.SWARM_DEMO ?? 'demo';
const client = await createClient({ url }).connect();
const sw = new Swarm(client);
const swarm = `${p}:swarm`;
const progress = sw.state(`${p}:progress`);

await sw.route.add(swarm, 'task.research', `channel:${p}:research`);
await sw.route.add(swarm, 'control.>', `channel:${p}:control`);
await sw.route.add(swarm, 'task.code', `stream:${p}:code`);
await sw.route.add(swarm, 'task.review', `stream:${p}:review`);
await sw.route.setDefault(swarm, `stream:${p}:dead`);

const kinds = ['research', 'code', 'review'];
const tasks = kinds.flatMap((kind) => [1, 2, 3].map((n) => ({ id: `${kind}-${n}`, kind })));
await progress.update((doc) => ({ ready: [], ...doc, total: tasks.length, done: {} }));

async function until(test, what) {
  for (let i = 0; i < 600; i++) {
    const { doc } = await progress.get();
    if (test(doc)) return doc;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

await until((doc) => doc.ready.length === 3, 'three workers');
for (const t of tasks) {
  const r = await sw.publish(swarm, `task.${t.kind}`, t, { sender: 'coordinator', priority: 8 });
  if (r.delivered.some((target) => target.endsWith(':dead'))) throw new Error(`${t.id} was dead-lettered`);
}
const doc = await until((d) => Object.keys(d.done).length === tasks.length, 'all tasks');
await sw.publish(swarm, 'control.stop', {}, { sender: 'coordinator', priority: 9 });
console.log(`coordinator: ${Object.keys(doc.done).length} tasks done`, doc.done);
await client.close();
