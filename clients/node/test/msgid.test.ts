/**
 * MSGID and REPLYTO on publish, and SWARM.STATS, for every client kind of the wrapper and in
 * the two driver-native shapes (node-redis 5 module, ioredis commands): a retried publish is
 * answered as a duplicate with the original id; subscribers and consumers see `msgid` and
 * `replyTo`; STATS pages carry every table with its `duplicates` and `msgids`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createClient } from 'redis';
import { Redis } from 'ioredis';
import { CommandError, Swarm, swarm } from '../dist/index.js';
import { swarmCommands } from '../dist/ioredis.js';
import { CLIENTS, openSwarm, startServer, type Server } from './harness.js';

let server: Server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

for (const kind of CLIENTS) {
  describe(kind.name, () => {
    let sw: Swarm;
    let close: () => Promise<void>;
    const p = `${kind.name.replace(/\W+/g, '-')}:`;
    before(async () => {
      ({ sw, close } = await openSwarm(kind, server.port));
    });
    after(async () => close());

    it('publish with MSGID: a retry is a duplicate answering the original id', async () => {
      const key = `${p}swarm:dedup`;
      await sw.route.add(key, 'task.>', `stream:${p}dedup:log`);
      const first = await sw.publish(key, 'task.done', { t: 17 }, { msgid: 'm-17', sender: 'coder-1' });
      assert.equal(first.duplicate, false);
      assert.deepEqual(first.delivered, [`stream:${p}dedup:log`]);
      const again = await sw.publish(key, 'task.done', { t: 17 }, { msgid: 'm-17' });
      assert.deepEqual(again, { id: first.id, delivered: [], receivers: 0, lost: [], duplicate: true });
      const other = await sw.publish(key, 'task.done', { t: 18 }, { msgid: 'm-18' });
      assert.equal(other.duplicate, false);
      assert.notEqual(other.id, first.id);
      const stats = await sw.route.stats(key);
      assert.equal(stats.published, 2);
      assert.equal(stats.duplicates, 1);
      assert.equal(stats.msgids, 2);
      await assert.rejects(sw.publish(key, 'task.done', {}, { msgid: '' }), (e: unknown) => {
        assert.ok(e instanceof CommandError);
        assert.equal(e.detail, 'MSGID must be 1 to 128 bytes');
        return true;
      });
      await assert.rejects(sw.publish(key, 'task.done', {}, { replyTo: 'inbox' }), (e: unknown) => {
        assert.ok(e instanceof CommandError);
        assert.match(e.detail, /^invalid REPLYTO target 'inbox'/);
        return true;
      });
    });

    it('subscribers and consumers see msgid and replyTo', async () => {
      const key = `${p}swarm:carry`;
      const stream = `${p}carry:log`;
      await sw.route.add(key, 'ask.>', `channel:${p}carry`);
      await sw.route.add(key, 'ask.>', `stream:${stream}`);
      const sub = await sw.subscribe(key);
      const sent = await sw.publish(key, 'ask.q', { q: 1 }, { msgid: 'q-1', replyTo: 'channel:inbox.a' });
      const plain = await sw.publish(key, 'ask.q', { q: 2 });
      const got = await sub.next();
      assert.equal(got.done, false);
      assert.equal(got.value!.id, sent.id);
      assert.equal(got.value!.msgid, 'q-1');
      assert.equal(got.value!.replyTo, 'channel:inbox.a');
      assert.deepEqual(got.value!.payload, { q: 1 });
      const second = (await sub.next()).value!;
      assert.equal(second.id, plain.id);
      assert.equal(second.msgid, undefined);
      assert.equal(second.replyTo, undefined);
      await sub.close();
      const c = sw.consumer({ stream, group: 'g', consumer: 'c1', blockMs: null });
      const [m1, m2] = await c.read();
      assert.equal(m1!.msgid, 'q-1');
      assert.equal(m1!.replyTo, 'channel:inbox.a');
      assert.equal(m2!.msgid, undefined);
      assert.equal(m2!.replyTo, undefined);
      await c.close();
    });

    it('SWARM.STATS pages over every table', async () => {
      const keys = [`${p}st:a`, `${p}st:b`, `${p}st:c`];
      for (const k of keys) await sw.route.add(k, 'x.y', 'channel:none');
      await sw.publish(keys[0]!, 'x.y', {}, { msgid: 'once' });
      await sw.publish(keys[0]!, 'x.y', {}, { msgid: 'once' });
      const seen = new Map<string, { duplicates: number; msgids: number; routes: number; breakersOpen: number }>();
      for await (const { key, stats } of sw.statsAll({ count: 2 })) seen.set(key, stats);
      for (const k of keys) assert.ok(seen.has(k), `${k} in SWARM.STATS`);
      const a = seen.get(keys[0]!)!;
      assert.equal(a.duplicates, 1);
      assert.equal(a.msgids, 1);
      assert.equal(a.routes, 1);
      assert.equal(a.breakersOpen, 0);
      const page = await sw.stats(0, { count: 1000 });
      assert.equal(page.cursor, '0');
      assert.ok(page.tables.some((t) => t.key === keys[1]));
      await assert.rejects(sw.stats(0, { count: 0 }), (e: unknown) => {
        assert.ok(e instanceof CommandError);
        assert.equal(e.detail, 'COUNT must be between 1 and 1000');
        return true;
      });
    });
  });
}

describe('driver-native shapes', () => {
  it('node-redis 5 module: publish with msgid/replyTo, duplicate, stats', async () => {
    for (const RESP of [2, 3] as const) {
      const client = createClient({ url: server.url, RESP, modules: { swarm } });
      await client.connect();
      try {
        const key = `n5m${RESP}:swarm:dedup`;
        await client.swarm.routeAdd(key, 'a.>', `stream:${key}:log`);
        const r1 = await client.swarm.publish(key, 'a.b', { n: 1 }, { msgid: 'x', replyTo: 'stream:inbox' });
        const r2 = await client.swarm.publish(key, 'a.b', { n: 1 }, { msgid: 'x' });
        assert.equal(r1.duplicate, false);
        assert.equal(r2.duplicate, true);
        assert.equal(r2.id, r1.id);
        const page = await client.swarm.stats(0, { count: 1000 });
        const mine = page.tables.find((t) => t.key === key);
        assert.equal(mine?.stats.duplicates, 1);
        const replies = await client.multi().swarm.publish(key, 'a.b', {}, { msgid: 'x' }).swarm.stats(0, { count: 1000 }).execTyped();
        assert.equal(replies[0].duplicate, true);
        assert.equal(replies[1].tables.find((t) => t.key === key)?.stats.duplicates, 2);
      } finally {
        client.destroy();
      }
    }
  });

  it('ioredis: publish with msgid/replyTo, duplicate, stats on the client and in a pipeline', async () => {
    const redis = new Redis(server.port, '127.0.0.1');
    try {
      const cmds = swarmCommands(redis);
      const key = 'iom:swarm:dedup';
      await cmds.routeAdd(key, 'a.>', `stream:${key}:log`);
      const r1 = await cmds.publish(key, 'a.b', { n: 1 }, { msgid: 'x', replyTo: 'channel:in' });
      const r2 = await cmds.publish(key, 'a.b', { n: 1 }, { msgid: 'x' });
      assert.equal(r1.duplicate, false);
      assert.equal(r2.duplicate, true);
      assert.equal(r2.id, r1.id);
      const res = (await redis.pipeline().swarm.publish(key, 'a.b', {}, { msgid: 'x' }).swarm.stats(0, { count: 1000 }).exec())!;
      assert.equal((res[0]![1] as { duplicate: boolean }).duplicate, true);
      const page = res[1]![1] as { cursor: string; tables: Array<{ key: string; stats: { duplicates: number } }> };
      assert.equal(page.tables.find((t) => t.key === key)?.stats.duplicates, 2);
    } finally {
      await redis.quit();
    }
  });
});
