/**
 * A real single-node cluster (all slots assigned to it): CROSSSLOT through the wrapper, and
 * the ioredis commands through ioredis's Cluster (which routes each by its key's slot).
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { Cluster } from 'ioredis';
import { CrossSlotError, SwarmError } from '../dist/index.js';
import '../dist/ioredis.js';
import { CLIENTS, openSwarm, startServer, type Server } from './harness.js';

let server: Server;
before(async () => {
  server = await startServer(['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf',
    '--cluster-announce-ip', '127.0.0.1']);
  const { sw, close } = await openSwarm(CLIENTS[0]!, server.port);
  try {
    await sw.call('CLUSTER', 'ADDSLOTSRANGE', 0, 16383);
    for (let i = 0; i < 200; i++) {
      if (String(await sw.call('CLUSTER', 'INFO')).includes('cluster_state:ok')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await close();
  }
});
after(async () => {
  await server?.stop();
});

it('a stream target outside the table slot answers CROSSSLOT', async () => {
  const { sw, close } = await openSwarm(CLIENTS[0]!, server.port);
  try {
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

it('ioredis Cluster: the commands on the client and in a pipeline', async () => {
  const cluster = new Cluster([{ host: '127.0.0.1', port: server.port }]);
  cluster.on('error', () => undefined);
  try {
    assert.equal(await cluster.swarm.routeAdd('swarm:{io}', 'a.>', 'stream:swarm:{io}:log'), 1);
    const r = await cluster.swarm.publish('swarm:{io}', 'a.b', { n: 1 });
    assert.deepEqual(r.delivered, ['stream:swarm:{io}:log']);
    const res = await cluster.pipeline().swarm.publish('swarm:{io}', 'a.c', {}).swarm.routeStats('swarm:{io}').exec();
    assert.equal((res![1]![1] as { published: number }).published, 2);
    await assert.rejects(cluster.swarm.routeAdd('swarm:{io}', 'a.>', 'stream:elsewhere'), CrossSlotError);
  } finally {
    cluster.disconnect();
  }
});
