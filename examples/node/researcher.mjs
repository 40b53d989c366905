// Researcher: a pub/sub worker. Subscribes to the swarm's channel targets, registers as ready
// in the shared progress snapshot, records each research task as done, stops on control.stop.
import { createClient } from 'redis';
import { Swarm } from 'swarm-redis';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const p = process.env.SWARM_DEMO ?? 'demo';
const client = await createClient({ url }).connect();
const sw = new Swarm(client);
const progress = sw.state(`${p}:progress`);

// The coordinator may not have added the routes yet: name the channels directly.
const sub = await sw.subscribe(`${p}:swarm`, { channels: [`${p}:research`, `${p}:control`] });
await progress.update((doc) => ({ ...doc, ready: [...(doc?.ready ?? []), 'researcher'] }));

for await (const msg of sub) {
  if (msg.type === 'control.stop') break;
  const task = msg.payload;
  // ... the research itself would happen here ...
  await progress.update((doc) => ({ ...doc, done: { ...doc.done, [task.id]: 'researcher' } }));
}
await sub.close();
await client.close();
