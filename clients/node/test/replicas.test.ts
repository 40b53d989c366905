/**
 * The `replicas` write option against a real master and replica (both started here), for
 * every client kind: publish and the snapshot writes send WAIT in the same round trip and
 * report how many replicas acknowledged; what they acknowledged is on the replica; asking
 * for more replicas than exist reports the one there is; a failing write rejects with its
 * own error.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createClient } from 'redis';
import { Redis } from 'ioredis';
import { NoSwarmError, Swarm, swarm } from '../dist/index.js';
import '../dist/ioredis.js';
import { CLIENTS, openSwarm, startReplica, startServer, type Server } from './harness.js';

let master: Server;
let replica: Server;
before(async () => {
  // No diskless-sync delay: the replica is online at once.
  master = await startServer(['--repl-diskless-sync-delay', '0']);
  replica = await startReplica(master);
});
after(async () => {
  await replica?.stop();
  await master?.stop();
});

for (const kind of CLIENTS) {
  describe(kind.name, () => {
    let sw: Swarm;
    let onReplica: Swarm;
    const closers: Array<() => Promise<void>> = [];
    const p = `${kind.name.replace(/\W+/g, '-')}:`;
    before(async () => {
      const m = await openSwarm(kind, master.port);
      const r = await openSwarm(kind, replica.port);
      sw = m.sw;
      onReplica = r.sw;
      closers.push(m.close, r.close);
    });
    after(async () => {
      for (const c of closers) await c();
    });

    it('publish with replicas: acked, and the entry is on the replica', async () => {
      const key = `${p}swarm:acked`;
      await sw.route.add(key, 'task.>', `stream:${p}acked:log`);
      const r = await sw.publish(key, 'task.done', { t: 1 }, { msgid: 'a-1', replicas: 1, replicasTimeoutMs: 30_000 });
      assert.equal(r.acked, 1);
      assert.equal(r.duplicate, false);
      assert.deepEqual(r.delivered, [`stream:${p}acked:log`]);
      const entries = (await onReplica.call('XRANGE', `${p}acked:log`, '-', '+')) as unknown[];
      assert.equal(entries.length, 1);
      assert.equal((await onReplica.route.stats(key)).msgids, 1);
      const plain = await sw.publish(key, 'task.done', { t: 2 });
      assert.equal(plain.acked, undefined);
      // Two asked, one exists: WAIT answers 1 at its timeout.
      const more = await sw.publish(key, 'task.done', { t: 3 }, { replicas: 2, replicasTimeoutMs: 50 });
      assert.equal(more.acked, 1);
      await assert.rejects(sw.publish(`${p}nokey`, 'task.done', {}, { replicas: 1, replicasTimeoutMs: 1000 }), NoSwarmError);
    });

    it('snapshot SAVE, PATCH, EDIT, RESTORE with replicas', async () => {
      const key = `${p}doc`;
      const w = { replicas: 1, replicasTimeoutMs: 30_000 };
      assert.deepEqual(await sw.snapshot.save(key, { a: 1 }, w), { version: 1, acked: 1 });
      assert.deepEqual(await sw.snapshot.patch(key, { b: 2 }, { ifVersion: 1, ...w }), { version: 2, acked: 1 });
      assert.deepEqual(await onReplica.snapshot.get(key), { a: 1, b: 2 });
      assert.deepEqual(await sw.snapshot.edit(key, [{ op: 'incr', path: '/a', value: 4 }], w), { version: 3, incr: [5], acked: 1 });
      assert.deepEqual(await sw.snapshot.restore(key, 1, w), { version: 4, acked: 1 });
      assert.deepEqual(await onReplica.snapshot.getWithVersion(key), { version: 4, doc: { a: 1 } });
      // Without the option the replies are as before.
      assert.equal(await sw.snapshot.save(key, { c: 3 }), 5);
      assert.equal(await sw.snapshot.restore(key, 4), 6);
      await assert.rejects(sw.snapshot.save(key, {}, { ifVersion: 1, ...w }), (e: unknown) => (e as { code?: string }).code === 'CONFLICT');
    });
  });
}

describe('driver-native shapes: the write and WAIT in one pipeline', () => {
  it('node-redis 5 module', async () => {
    const client = createClient({ url: master.url, modules: { swarm } });
    await client.connect();
    try {
      const key = 'n5m:swarm:acked';
      await client.swarm.routeAdd(key, 'a.>', `stream:${key}:log`);
      const [published, acked] = await client.multi().swarm.publish(key, 'a.b', {}).wait(1, 30_000).execAsPipelineTyped();
      assert.deepEqual(published.delivered, [`stream:${key}:log`]);
      assert.equal(acked, 1);
    } finally {
      client.destroy();
    }
  });

  it('ioredis', async () => {
    const redis = new Redis(master.port, '127.0.0.1');
    try {
      const key = 'iom:swarm:acked';
      await redis.swarm.routeAdd(key, 'a.>', `stream:${key}:log`);
      const res = (await redis.pipeline().swarm.publish(key, 'a.b', {}).wait(1, 30_000).exec())!;
      assert.deepEqual((res[0]![1] as { delivered: string[] }).delivered, [`stream:${key}:log`]);
      assert.equal(res[1]![1], 1);
    } finally {
      await redis.quit();
    }
  });
});
