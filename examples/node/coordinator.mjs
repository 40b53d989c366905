// Coordinator: sets up the routes, waits for three workers, hands out 9 tasks and waits until
// the shared progress snapshot shows all of them done, then tells the workers to stop.
// It never polls: it sleeps in SWARM.SNAPSHOT WAIT (sw.snapshot.watch) until progress moves.
//   node researcher.mjs & node stream-worker.mjs coder code & node stream-worker.mjs reviewer review &
//   node coordinator.mjs
import { createClient } from 'redis';
import { Swarm } from 'swarm-redis';

/** @typedef {{ total?: number, ready?: string[], done?: Record<string, string> }} Progress */

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const p = process.env.SWARM_DEMO ?? 'demo';
const client = await createClient({ url }).on('error', (e) => console.error('redis:', e.message)).connect();
const sw = new Swarm(client);
const swarm = `${p}:swarm`;
/** @type {import('swarm-redis').State<Progress>} */
const progress = sw.state(`${p}:progress`);

await sw.route.add(swarm, 'task.research', `channel:${p}:research`);
await sw.route.add(swarm, 'ask.research', `channel:${p}:research`);
await sw.route.add(swarm, 'task.code', `stream:${p}:code`);
await sw.route.add(swarm, 'task.review', `stream:${p}:review`);
for (const target of [`channel:${p}:control`, `stream:${p}:code`, `stream:${p}:review`]) {
  await sw.route.add(swarm, 'control.>', target);
}
await sw.route.setDefault(swarm, `stream:${p}:dead`);

const kinds = ['research', 'code', 'review'];
const tasks = kinds.flatMap((kind) => [1, 2, 3].map((n) => ({ id: `${kind}-${n}`, kind })));
await progress.update((doc) => ({ ready: [], ...doc, total: tasks.length, done: {} }));

/**
 * The progress document once `test` holds, waiting for each new version with WAIT.
 * @param {(doc: Progress) => boolean} test
 */
async function until(test) {
  const { doc, version } = await progress.get();
  if (doc && test(doc)) return doc;
  for await (const _ of sw.snapshot.watch(progress.key, { after: version })) {
    const { doc } = await progress.get();
    if (doc && test(doc)) return doc; // leaving the loop closes the watch's connection
  }
  throw new Error('unreachable');
}

await until((doc) => doc.ready?.length === 3);
for (const t of tasks) {
  const r = await sw.publish(swarm, `task.${t.kind}`, t, { sender: 'coordinator', priority: 8 });
  if (r.delivered.some((target) => target.endsWith(':dead'))) throw new Error(`${t.id} was dead-lettered`);
}
const doc = await until((d) => Object.keys(d.done ?? {}).length === tasks.length);
// Request/reply: ask the researcher for its count before stopping it (RequestTimeoutError
// if it does not answer within 10 s).
const answer = await sw.request(swarm, 'ask.research', { question: 'how many?' },
  { timeoutMs: 10_000, sender: 'coordinator' });
console.log('coordinator: researcher says', answer.payload);
await sw.publish(swarm, 'control.stop', {}, { sender: 'coordinator', priority: 9 });
console.log(`coordinator: ${Object.keys(doc.done ?? {}).length} tasks done`, doc.done);
await sw.close(); // frees the request inbox's connection
await client.close();
