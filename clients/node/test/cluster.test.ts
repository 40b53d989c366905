/** CROSSSLOT from a real single-node cluster (all slots assigned to it). */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { CrossSlotError, SwarmError } from '../dist/index.js';
import { CLIENTS, openSwarm, startServer, type Server } from './harness.js';

let server: Server;
before(async () => {
  server = await startServer(['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf']);
});
after(async () => {
  await server?.stop();
});

it('a stream target outside the table slot answers CROSSSLOT', async () => {
  const { sw, close } = await openSwarm(CLIENTS[0]!, server.port);
  try {
    await sw.call('CLUSTER', 'ADDSLOTSRANGE', 0, 16383);
    for (let i = 0; i < 200; i++) {
      if (String(await sw.call('CLUSTER', 'INFO')).includes('cluster_state:ok')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(await sw.route.add('swarm:{ops}', 'a.>', 'stream:swarm:{ops}:log'), 1);
    await assert.rejects(sw.route.add('swarm:{ops}', 'a.>', 'stream:elsewhere'), (e: unknown) => {
      assert.ok(e instanceof CrossSlotError && e instanceof SwarmError);
      assert.equal(e.code, 'CROSSSLOT');
      return true;
    });
  } finally {
    await close();
  }
});
