/**
 * The driver-native shapes of the commands: node-redis 5 (`createClient({ modules: { swarm } })`,
 * RESP2 and RESP3) and ioredis (`import 'swarm-redis/ioredis'`), each on the client, in
 * multi() and in a pipeline, with the same decoded replies as the Swarm wrapper. node-redis
 * 4 has the wrapper only (its module API is another one; see docs/clients-node.md).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createClient } from 'redis';
import { Redis } from 'ioredis';
import {
  ConflictError,
  NoSwarmError,
  Swarm,
  TestFailedError,
  swarm,
  toSwarmError,
  type PublishResult,
  type Stats,
} from '../dist/index.js';
import { swarmCommands } from '../dist/ioredis.js';
import { startServer, type Server } from './harness.js';

let server: Server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

function openModuleClient(url: string, RESP: 2 | 3) {
  return createClient({ url, RESP, modules: { swarm } });
}

for (const RESP of [2, 3] as const) {
  describe(`node-redis 5 module, RESP${RESP}`, () => {
    const p = `n5m${RESP}:`;
    let client: ReturnType<typeof openModuleClient>;
    before(async () => {
      client = openModuleClient(server.url, RESP);
      await client.connect();
    });
    after(async () => {
      client.destroy();
    });

    it('commands on the client decode as the wrapper does', async () => {
      const key = `${p}swarm`;
      assert.equal(await client.swarm.routeAdd(key, 'task.>', `stream:${p}log`), 1);
      assert.equal(await client.swarm.routeAdd(key, 'task.*', `channel:${p}nobody`, { priority: [1, 9] }), 2);
      const r: PublishResult = await client.swarm.publish(key, 'task.done', { n: 1 }, { sender: 'me', priority: 7 });
      assert.match(r.id, /^\d+-\d+$/);
      assert.deepEqual(r.delivered, [`stream:${p}log`]);
      assert.deepEqual(r.lost, [{ target: `channel:${p}nobody`, outcome: 'missed' }]);
      assert.equal(r.duplicate, false);
      const stats: Stats = await client.swarm.routeStats(key);
      assert.equal(stats.published, 1);
      assert.equal(stats.lastId, r.id);
      assert.deepEqual(await client.swarm.routeMatch(key, 'task.x'), [`stream:${p}log`, `channel:${p}nobody`]);
      assert.deepEqual((await client.swarm.routeList(key)).map((x) => x.id), [1, 2]);
      assert.equal(await client.swarm.snapshotSave(`${p}doc`, { a: 1 }), 1);
      assert.deepEqual(await client.swarm.snapshotGetWithVersion(`${p}doc`), { version: 1, doc: { a: 1 } });
      assert.deepEqual(await client.swarm.snapshotEdit(`${p}doc`, [{ op: 'incr', path: '/a', value: 2 }]), { version: 2, incr: [3] });
      assert.deepEqual(await client.swarm.snapshotGet(`${p}doc`), { a: 3 });
      assert.equal(await client.swarm.snapshotGetText(`${p}none`), null);
      assert.equal((await client.swarm.snapshotInfo(`${p}doc`)).head, 2);
      // Errors are the driver's own; toSwarmError gives the class of the code word.
      await assert.rejects(client.swarm.publish(`${p}typo`, 'a.b', {}), (e: unknown) => {
        assert.ok(toSwarmError(e) instanceof NoSwarmError);
        return true;
      });
    });

    it('multi() and pipelines carry the commands and decode each reply', async () => {
      const key = `${p}swarm:multi`;
      const replies = await client
        .multi()
        .swarm.routeAdd(key, 'job.>', `stream:${p}jobs`)
        .swarm.publish(key, 'job.a', { i: 1 })
        .swarm.routeStats(key)
        .swarm.snapshotSave(`${p}m`, { v: 1 })
        .execTyped();
      assert.equal(replies[0], 1);
      assert.match(replies[1].id, /^\d+-\d+$/);
      assert.deepEqual(replies[1].delivered, [`stream:${p}jobs`]);
      assert.equal(replies[2].published, 1);
      assert.equal(replies[3], 1);
      const piped = await client
        .multi()
        .swarm.publish(key, 'job.b', { i: 2 })
        .swarm.snapshotPatch(`${p}m`, { w: 2 }, { ifVersion: 1 })
        .swarm.snapshotGetWithVersion(`${p}m`)
        .execAsPipelineTyped();
      assert.deepEqual(piped[0].delivered, [`stream:${p}jobs`]);
      assert.equal(piped[1], 2);
      assert.deepEqual(piped[2], { version: 2, doc: { v: 1, w: 2 } });
      // Concurrent calls are pipelined on the one connection by node-redis.
      const many = await Promise.all(Array.from({ length: 20 }, (_, i) => client.swarm.publish(key, 'job.c', { i })));
      assert.equal(new Set(many.map((m) => m.id)).size, 20);
      // A failing command in a transaction fails the exec with the code word.
      await assert.rejects(
        client.multi().swarm.snapshotSave(`${p}m`, {}, { ifVersion: 0 }).exec(),
        (e: unknown) => {
          const first = (e as { replies?: unknown[] }).replies?.[0] ?? e;
          assert.ok(toSwarmError(first) instanceof ConflictError);
          return true;
        },
      );
    });

    it('the module and the wrapper share the client', async () => {
      const sw = new Swarm(client);
      await sw.snapshot.save(`${p}shared`, { x: 1 });
      assert.deepEqual(await client.swarm.snapshotGet(`${p}shared`), { x: 1 });
    });
  });
}

describe('ioredis commands (swarm-redis/ioredis)', () => {
  const p = 'iom:';
  let redis: Redis;
  before(() => {
    redis = new Redis(server.port, '127.0.0.1');
  });
  after(async () => {
    await redis.quit();
  });

  it('commands on the client decode as the wrapper does; errors are SwarmError classes', async () => {
    const key = `${p}swarm`;
    assert.equal(await redis.swarm.routeAdd(key, 'task.>', `stream:${p}log`), 1);
    const r = await redis.swarm.publish(key, 'task.done', { n: 1 }, { priority: 8 });
    assert.match(r.id, /^\d+-\d+$/);
    assert.deepEqual(r.delivered, [`stream:${p}log`]);
    assert.equal((await redis.swarm.routeStats(key)).published, 1);
    await redis.swarm.snapshotSave(`${p}doc`, { tasks: [{ owner: null }] });
    await assert.rejects(
      redis.swarm.snapshotEdit(`${p}doc`, [{ op: 'test', path: '/tasks/0/owner', value: 'x' }]),
      (e: unknown) => e instanceof TestFailedError && e.op === 0 && e.path === '/tasks/0/owner',
    );
    await assert.rejects(redis.swarm.publish(`${p}typo`, 'a.b', {}), NoSwarmError);
    assert.equal(await swarmCommands(redis).routeAdd(key, 'task.>', `stream:${p}log`), 1);
  });

  it('pipeline() and multi() queue the commands and decode each reply', async () => {
    const key = `${p}swarm:pipe`;
    const res = await redis
      .pipeline()
      .swarm.routeAdd(key, 'job.>', `stream:${p}jobs`)
      .swarm.publish(key, 'job.a', { i: 1 })
      .get(`${p}nokey`)
      .swarm.routeStats(key)
      .exec();
    assert.ok(res);
    assert.deepEqual(res.map(([err]) => err), [null, null, null, null]);
    assert.equal(res[0]![1], 1);
    assert.deepEqual((res[1]![1] as PublishResult).delivered, [`stream:${p}jobs`]);
    assert.equal(res[2]![1], null);
    assert.equal((res[3]![1] as Stats).published, 1);
    const tx = await redis
      .multi()
      .swarm.publish(key, 'job.b', { i: 2 })
      .swarm.snapshotSave(`${p}m`, { v: 1 })
      .swarm.snapshotGetWithVersion(`${p}m`)
      .swarm.routeStats(key)
      .exec();
    assert.ok(tx);
    assert.match((tx[0]![1] as PublishResult).id, /^\d+-\d+$/);
    assert.equal(tx[1]![1], 1);
    assert.deepEqual(tx[2]![1], { version: 1, doc: { v: 1 } });
    assert.equal((tx[3]![1] as Stats).published, 2);
    // An error reply inside a pipeline is that command's result, the others still decode.
    const mixed = await redis.pipeline().swarm.publish(`${p}typo`, 'a.b', {}).swarm.routeStats(key).exec();
    assert.ok(toSwarmError(mixed![0]![0]) instanceof NoSwarmError);
    assert.equal((mixed![1]![1] as Stats).published, 2);
  });
});
