// Researcher: a pub/sub worker. Subscribes to the swarm's channel targets, registers as ready
// in the shared progress snapshot, records each research task as done with an atomic EDIT,
// answers the coordinator's question (request/reply), and stops on control.stop.
import { createClient } from 'redis';
import { Swarm } from 'swarm-redis';

/** @typedef {{ id: string, kind: string }} Task */

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const p = process.env.SWARM_DEMO ?? 'demo';
const client = await createClient({ url }).on('error', (e) => console.error('redis:', e.message)).connect();
const sw = new Swarm(client);
/** @type {import('swarm-redis').State<{ ready?: string[] }>} */
const progress = sw.state(`${p}:progress`);

// The coordinator may not have added the routes yet: name the channels directly. Subscribed
// before registering, so no task published after the registration can be missed.
const sub = await sw.subscribe(`${p}:swarm`, { channels: [`${p}:research`, `${p}:control`] });
await progress.update((doc) => ({ ...doc, ready: [...(doc?.ready ?? []), 'researcher'] }));

let researched = 0;
for await (const msg of sub) {
  if (msg.type === 'control.stop') break; // leaving the loop closes the subscription
  if (msg.type === 'ask.research') {
    // A question: answer it at its replyTo (the asker's inbox).
    await sw.reply(msg, { researched }, { sender: 'researcher' });
    continue;
  }
  const task = /** @type {Task} */ (msg.payload);
  // ... the research itself would happen here ...
  await sw.snapshot.edit(progress.key, [{ op: 'add', path: `/done/${task.id}`, value: 'researcher' }]);
  researched++;
}
await client.close();
