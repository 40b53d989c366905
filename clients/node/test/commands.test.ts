/**
 * Every command method against a real server, once per client kind (node-redis 5 RESP2 and
 * RESP3, node-redis 4, ioredis): the same typed replies whatever the protocol.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CommandError,
  ConflictError,
  DeniedError,
  EventTypeError,
  NoSwarmError,
  NoVersionError,
  PayloadError,
  Swarm,
  SwarmError,
  WrongTypeError,
  rawJSON,
} from '../dist/index.js';
import { CLIENTS, features, openSwarm, startServer, type Features, type Server } from './harness.js';

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
    let f: Features;
    const p = `${kind.name.replace(/\W+/g, '-')}:`;
    before(async () => {
      ({ sw, close } = await openSwarm(kind, server.port));
      f = await features(sw);
    });
    after(async () => close());

    it('route add/match/list/del with numbers as arguments', async () => {
      const key = `${p}swarm:routes`;
      assert.equal(await sw.route.add(key, 'task.*', 'channel:tasks'), 1);
      assert.equal(await sw.route.add(key, 'task.>', `stream:${p}log`), 2);
      assert.equal(await sw.route.add(key, 'agent\\.[a-z]+\\.hb', 'channel:hb', { regex: true, priority: [1, 4n] }), 3);
      assert.equal(await sw.route.add(key, 'task.*', 'channel:tasks'), 1, 'identical route keeps its id');
      assert.deepEqual(await sw.route.match(key, 'task.done'), ['channel:tasks', `stream:${p}log`]);
      assert.deepEqual(await sw.route.match(key, 'agent.x.hb', { priority: 2 }), ['channel:hb']);
      assert.deepEqual(await sw.route.match(key, 'agent.x.hb', { priority: '5' }), []);
      const routes = await sw.route.list(key);
      assert.equal(routes.length, 3);
      assert.deepEqual(routes[2], {
        id: 3, pattern: 'agent\\.[a-z]+\\.hb', kind: 'regex', target: 'channel:hb', priority: [1, 4],
        matched: 0, delivered: 0, missed: 0, failed: 0, shed: 0, breaker: 'closed',
      });
      assert.equal(routes[0]!.kind, 'subject');
      assert.equal(await sw.route.del(key, 3, '2', 99n), 2);
      assert.deepEqual((await sw.route.list(key)).map((r) => r.id), [1]);
      assert.deepEqual(await sw.route.list(`${p}nokey`), []);
    });

    it('rules, default target and stats', async () => {
      const key = `${p}swarm:rules`;
      await sw.route.add(key, 'task.>', `stream:${p}rules:log`);
      const deny = await sw.route.deny(key, '.*\\.secret');
      const allow = await sw.route.allow(key, 'task\\..+');
      assert.deepEqual(await sw.route.rules(key), [
        { id: deny, action: 'deny', regex: '.*\\.secret', hits: 0 },
        { id: allow, action: 'allow', regex: 'task\\..+', hits: 0 },
      ]);
      await sw.route.setDefault(key, `stream:${p}rules:dead`);
      await sw.publish(key, 'task.done', { ok: true });
      await assert.rejects(sw.publish(key, 'task.secret', {}), DeniedError);
      const stats = await sw.route.stats(key);
      assert.equal(stats.published, 1);
      assert.equal(stats.delivered, 1);
      assert.equal(stats.rejected, 1);
      assert.equal(stats.routes, 1);
      assert.equal(stats.rules, 2);
      assert.equal(stats.default, `stream:${p}rules:dead`);
      assert.match(stats.lastId, /^\d+-\d+$/);
      await sw.route.setDefault(key, null);
      assert.equal((await sw.route.stats(key)).default, null);
      const empty = await sw.route.stats(`${p}nokey`);
      assert.equal(empty.lastId, '0-0');
      assert.equal(empty.published, 0);
      assert.ok((await sw.route.help()).some((l) => l.startsWith('ADD')));
    });

    it('publish: reply, options, payload as value or raw JSON', async () => {
      const key = `${p}swarm:pub`;
      await sw.route.add(key, 'job.>', `stream:${p}pub:s`);
      await sw.route.add(key, 'job.>', `channel:${p}nobody`);
      const r = await sw.publish(key, 'job.new', rawJSON('{"n": 1.50}'), { priority: 8, sender: 'coord' });
      assert.match(r.id!, /^\d+-\d+$/);
      assert.deepEqual(r.delivered, [`stream:${p}pub:s`]);
      assert.equal(r.receivers, 0);
      if (f.publishLost) assert.deepEqual(r.lost, [{ target: `channel:${p}nobody`, outcome: 'missed' }]);
      else assert.deepEqual(r.lost, []);
      const entries = (await sw.call('XRANGE', `${p}pub:s`, '-', '+')) as unknown[];
      assert.equal(entries.length, 1);
      await assert.rejects(sw.publish(key, 'job.new', {}, { priority: 10 }), (e: unknown) => {
        assert.ok(e instanceof CommandError);
        assert.equal(e.code, 'ERR');
        assert.equal(e.detail, 'PRIORITY must be between 1 and 9');
        return true;
      });
    });

    it('publish to a missing key', async (t) => {
      if (!f.noSwarm) {
        t.skip('module without NOSWARM (issue 10)');
        return;
      }
      await assert.rejects(sw.publish(`${p}swarm:typo`, 'job.new', {}), (e: unknown) => {
        assert.ok(e instanceof NoSwarmError);
        assert.equal(e.key, `${p}swarm:typo`);
        return true;
      });
    });

    it('snapshot save/get/patch/diff/list/restore/info', async () => {
      const key = `${p}state:a`;
      assert.equal(await sw.snapshot.save(key, rawJSON('{"plan":{"step":1},"budget":12.50}')), 1);
      assert.equal(await sw.snapshot.patch(key, { plan: { step: 2 }, budget: null }, { ifVersion: 1 }), 2);
      assert.deepEqual(await sw.snapshot.get(key), { plan: { step: 2 } });
      assert.equal(await sw.snapshot.getText(key, { version: 1 }), '{"plan":{"step":1},"budget":12.50}');
      assert.equal(await sw.snapshot.get(key, { path: '/plan/step' }), 2);
      assert.equal(await sw.snapshot.get(key, { path: '/nope' }), undefined);
      assert.equal(await sw.snapshot.getText(`${p}nokey`), null);
      assert.deepEqual(JSON.parse(await sw.snapshot.diff(key, 1)), { plan: { step: 2 }, budget: null });
      assert.deepEqual(JSON.parse(await sw.snapshot.diff(key, '2', 1n)), { plan: { step: 1 }, budget: 12.5 });
      const list = await sw.snapshot.list(key);
      assert.deepEqual(list.map((v) => v.version), [2, 1]);
      assert.equal(list[1]!.bytes, '{"plan":{"step":1},"budget":12.50}'.length);
      assert.match(list[0]!.checksum, /^[0-9a-f]{16}$/);
      assert.equal(typeof list[0]!.ts, 'number');
      assert.equal(await sw.snapshot.restore(key, 1), 3);
      const info = await sw.snapshot.info(key);
      assert.deepEqual({ ...info, created: 0, updated: 0 }, {
        head: 3, oldest: 1, retained: 3, keep: 1000, bytes: info.bytes, created: 0, updated: 0,
      });
      assert.ok(info.updated >= info.created);
      assert.equal(await sw.snapshot.save(key, 'x', { keep: 2 }), 4);
      assert.equal((await sw.snapshot.info(key)).retained, 2);
      assert.ok((await sw.snapshot.help()).some((l) => l.startsWith('SAVE')));
      assert.deepEqual(await sw.snapshot.getWithVersion(key), { version: 4, doc: 'x' });
      assert.deepEqual(await sw.snapshot.getWithVersion(`${p}nokey`), { version: 0, doc: undefined });
    });

    it('snapshot errors: CONFLICT, NOVERSION, ERR, WRONGTYPE', async () => {
      const key = `${p}state:err`;
      await sw.snapshot.save(key, { v: 1 }, { ifVersion: 0 });
      await assert.rejects(sw.snapshot.save(key, {}, { ifVersion: 0 }), (e: unknown) => {
        assert.ok(e instanceof ConflictError && e instanceof SwarmError);
        assert.equal(e.code, 'CONFLICT');
        assert.equal(e.current, 1);
        assert.equal(e.expected, 0);
        return true;
      });
      await assert.rejects(sw.snapshot.get(key, { version: 9 }), (e: unknown) => {
        assert.ok(e instanceof NoVersionError);
        assert.equal(e.version, 9);
        return true;
      });
      await assert.rejects(sw.snapshot.info(`${p}nokey`), (e: unknown) =>
        e instanceof CommandError && e.detail === 'no such key');
      await sw.call('SET', `${p}str`, 'x');
      await assert.rejects(sw.snapshot.get(`${p}str`), (e: unknown) => e instanceof WrongTypeError && e.code === 'WRONGTYPE');
      await assert.rejects(sw.route.add(`${p}str`, 'a', 'channel:a'), WrongTypeError);
    });

    it('publish errors: EVENTTYPE, PAYLOAD, DENIED', async () => {
      const key = `${p}swarm:errs`;
      await sw.route.add(key, 'a.>', 'channel:a');
      const rule = await sw.route.deny(key, 'a\\.secret');
      await assert.rejects(sw.publish(key, 'a.*', {}), (e: unknown) => {
        assert.ok(e instanceof EventTypeError);
        assert.equal(e.offset, 2);
        return true;
      });
      await assert.rejects(sw.publish(key, 'a.b', rawJSON('{"x":1,}')), (e: unknown) => {
        assert.ok(e instanceof PayloadError);
        assert.equal(e.offset, 7);
        return true;
      });
      await assert.rejects(sw.publish(key, 'a.secret', {}), (e: unknown) => {
        assert.ok(e instanceof DeniedError);
        assert.equal(e.ruleId, rule);
        return true;
      });
    });

    it('snapshot EDIT with incr results', async (t) => {
      if (!f.edit) {
        t.skip('module without SWARM.SNAPSHOT EDIT (issue 11)');
        return;
      }
      const key = `${p}state:edit`;
      await sw.snapshot.save(key, { done: 0, tasks: [] });
      const r = await sw.snapshot.edit(key, [
        { op: 'incr', path: '/done', value: 5 },
        { op: 'add', path: '/tasks/-', value: 't1' },
        { op: 'incr', path: '/done', value: 2n },
      ], { ifVersion: 1 });
      assert.equal(r.version, 2);
      assert.deepEqual(r.incr, [5, 7]);
      assert.deepEqual(await sw.snapshot.get(key), { done: 7, tasks: ['t1'] });
      await assert.rejects(sw.snapshot.edit(key, [{ op: 'incr', path: '/done', value: 1 }], { ifVersion: 1 }), ConflictError);
      await assert.rejects(
        sw.snapshot.edit(key, [{ op: 'test', path: '/done', value: 0 }]),
        (e: unknown) => e instanceof SwarmError && !(e instanceof ConflictError) && e.code !== 'ERR',
      );
    });

    it('snapshot WAIT', async (t) => {
      if (!f.wait) {
        t.skip('module without SWARM.SNAPSHOT WAIT (issue 11)');
        return;
      }
      const key = `${p}state:wait`;
      await sw.snapshot.save(key, { n: 1 });
      assert.equal(await sw.snapshot.wait(key, 0, 100), 1);
      assert.equal(await sw.snapshot.wait(key, 1, 20), null);
    });

    it('GET WITHVERSION is used when the module has it', async (t) => {
      if (!f.withVersion) {
        t.skip('module without GET WITHVERSION (issue 11); the INFO + GET VERSION path is tested above');
        return;
      }
      const key = `${p}state:wv`;
      await sw.snapshot.save(key, { a: 1 });
      await sw.snapshot.save(key, { a: 2 });
      assert.deepEqual(await sw.snapshot.getWithVersion(key), { version: 2, doc: { a: 2 } });
    });
  });
}
