/**
 * Subscription, stream consumer and state handle against a real server, for every client
 * kind: pub/sub iteration and close, group creation (start 0 and $), read/ack/pending,
 * XAUTOCLAIM reclaim, and the compare-and-set loop under 20 concurrent writers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConflictError, Swarm, UNCHANGED, rawJSON, type Message } from '../dist/index.js';
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

    it('subscribe iterates the channel targets and the default channel', async () => {
      const key = `${p}swarm:sub`;
      await sw.route.add(key, 'task.*', `channel:${p}tasks`);
      await sw.route.add(key, 'note.*', `channel:${p}notes`);
      await sw.route.add(key, 'task.*', `stream:${p}sub:log`);
      await sw.route.setDefault(key, `channel:${p}dead`);
      const sub = await sw.subscribe(key);
      assert.deepEqual([...sub.channels].sort(), [`${p}dead`, `${p}notes`, `${p}tasks`]);
      const r = await sw.publish(key, 'task.done', { n: 1 }, { sender: 'me', priority: 7 });
      assert.equal(r.receivers, 1);
      await sw.publish(key, 'note.x', rawJSON('[1, 2]'));
      await sw.publish(key, 'other.x', 'dead');
      const got: Message[] = [];
      for await (const m of sub) {
        got.push(m);
        if (got.length === 3) break; // break closes the subscription
      }
      assert.deepEqual(got.map((m) => [m.channel, m.type, m.payload]), [
        [`${p}tasks`, 'task.done', { n: 1 }],
        [`${p}notes`, 'note.x', [1, 2]],
        [`${p}dead`, 'other.x', 'dead'],
      ]);
      assert.equal(got[0]!.id, r.id);
      assert.equal(got[0]!.swarm, key);
      assert.equal(got[0]!.sender, 'me');
      assert.equal(got[0]!.priority, 7);
      assert.equal(got[1]!.payloadText, '[1, 2]');
      // Closed: nobody receives any more.
      assert.equal((await sw.publish(key, 'task.done', {})).receivers, 0);
      await sub.close();
      await assert.rejects(sw.subscribe(`${p}swarm:none`), /no channel targets/);
    });

    it('close() ends a pending iteration', async () => {
      const sub = await sw.subscribe('unused', { channels: [`${p}quiet`] });
      const it = sub[Symbol.asyncIterator]();
      const pending = it.next();
      await sub.close();
      assert.deepEqual(await pending, { value: undefined, done: true });
    });

    it('consumer: group from 0 sees earlier entries, $ does not; read, ack, pending', async () => {
      const key = `${p}swarm:cons`;
      const stream = `${p}cons:jobs`;
      await sw.route.add(key, 'job.>', `stream:${stream}`);
      const first = await sw.publish(key, 'job.a', { n: 1 }, { sender: 'coord' });
      const c = sw.consumer({ stream: `stream:${stream}`, group: 'workers', consumer: 'w1', blockMs: null });
      const late = sw.consumer({ stream, group: 'late', consumer: 'l1', start: '$', blockMs: null });
      assert.equal(await late.ensureGroup(), true);
      assert.equal(await late.ensureGroup(), false, 'BUSYGROUP is not an error');
      await sw.publish(key, 'job.b', { n: 2 });
      const got = await c.read();
      assert.deepEqual(got.map((m) => m.type), ['job.a', 'job.b']);
      assert.equal(got[0]!.id, first.id);
      assert.equal(got[0]!.sender, 'coord');
      assert.equal(got[0]!.stream, stream);
      assert.ok(got[0]!.entryId);
      if (f.streamSwarmField) assert.equal(got[0]!.swarm, key);
      assert.deepEqual((await late.read()).map((m) => m.type), ['job.b']);
      assert.equal(await c.pending(), 2);
      assert.equal(await c.ack(got[0]!), 1);
      assert.equal(await c.ack(got[1]!.entryId!), 1);
      assert.equal(await c.pending(), 0);
      assert.deepEqual(await c.read(), []);
      assert.equal(await c.ack(), 0);
    });

    it('consumer: XAUTOCLAIM reclaims entries another consumer left pending', async () => {
      const key = `${p}swarm:reclaim`;
      const stream = `${p}reclaim:jobs`;
      await sw.route.add(key, 'job.>', `stream:${stream}`);
      for (let i = 0; i < 5; i++) await sw.publish(key, 'job.x', { i });
      const dead = sw.consumer({ stream, group: 'g', consumer: 'crashed', blockMs: null, count: 5 });
      assert.equal((await dead.read()).length, 5);
      const live = sw.consumer({ stream, group: 'g', consumer: 'live', blockMs: null, minIdleMs: 60000 });
      assert.deepEqual((await live.reclaim()).messages, [], 'nothing idle for 60 s yet');
      const r = await live.reclaim({ minIdleMs: 0, count: 3 });
      assert.deepEqual(r.messages.map((m) => (m.payload as { i: number }).i), [0, 1, 2]);
      // The entries now belong to "live": its acks clear them from the group's pending list.
      assert.equal(await live.ack(...r.messages), 3);
      const rest = await live.reclaim({ minIdleMs: 0 });
      assert.deepEqual(rest.messages.map((m) => (m.payload as { i: number }).i), [3, 4]);
      assert.equal(await live.ack(...rest.messages), 2);
      assert.equal(await live.pending(), 0);
      // A pending entry trimmed away is reported as deleted.
      await sw.publish(key, 'job.x', { i: 5 });
      const [lost] = await dead.read();
      await sw.call('XDEL', stream, lost!.entryId!);
      const gone = await live.reclaim({ minIdleMs: 0 });
      assert.deepEqual(gone, { messages: [], deleted: [lost!.entryId!] });
      assert.equal(await live.pending(), 0);
    });

    it('consumer: blocking reads run on their own connection; iteration until close()', async () => {
      const key = `${p}swarm:block`;
      const stream = `${p}block:jobs`;
      await sw.route.add(key, 'job.>', `stream:${stream}`);
      const c = sw.consumer({ stream, group: 'g', consumer: 'w', blockMs: 200 });
      const seen: number[] = [];
      const loop = (async () => {
        for await (const m of c) {
          seen.push((m.payload as { i: number }).i);
          await c.ack(m);
          if (seen.length === 3) await c.close();
        }
      })();
      // The shared connection keeps answering while the consumer blocks.
      for (let i = 0; i < 3; i++) await sw.publish(key, 'job.x', { i });
      await loop;
      assert.deepEqual(seen, [0, 1, 2]);
      assert.equal(await c.pending(), 0);
    });

    it('state: get() of a missing key, update() creates and changes', async () => {
      const st = sw.state<{ n: number }>(`${p}state:s`);
      assert.deepEqual(await st.get(), { version: 0, doc: undefined });
      const a = await st.update((doc) => ({ n: (doc?.n ?? 0) + 1 }));
      assert.deepEqual(a, { doc: { n: 1 }, version: 1, attempts: 1 });
      const b = await st.update((doc) => ({ n: doc!.n + 1 }));
      assert.equal(b.version, 2);
      assert.deepEqual(await st.get(), { version: 2, doc: { n: 2 } });
      const c = await st.update(() => UNCHANGED);
      assert.deepEqual(c, { doc: { n: 2 }, version: 2, attempts: 1 });
      assert.equal((await sw.snapshot.info(`${p}state:s`)).head, 2);
    });

    it('state: 20 concurrent writers lose no update, with bounded retries', async () => {
      const key = `${p}state:cas`;
      const writers = 20;
      const rounds = 3;
      const conns = await Promise.all(Array.from({ length: writers }, () => openSwarm(kind, server.port)));
      try {
        // Round 0 starts with every writer holding the same version (a barrier in fn), so
        // 19 of them must hit CONFLICT and retry.
        let arrived = 0;
        let release!: () => void;
        const barrier = new Promise<void>((r) => (release = r));
        const attempts: number[] = [];
        await Promise.all(conns.map(async ({ sw: w }, i) => {
          const st = w.state<{ n: number; by: Record<string, number> }>(key, { retries: 100 });
          let waited = false;
          for (let round = 0; round < rounds; round++) {
            const r = await st.update(async (doc) => {
              if (!waited) {
                waited = true;
                if (++arrived === writers) release();
                await barrier;
              }
              const by = { ...(doc?.by ?? {}) };
              by[`w${i}`] = (by[`w${i}`] ?? 0) + 1;
              return { n: (doc?.n ?? 0) + 1, by };
            });
            attempts.push(r.attempts);
          }
        }));
        const { version, doc } = await sw.state<{ n: number; by: Record<string, number> }>(key).get();
        assert.equal(version, writers * rounds, 'one version per update');
        assert.equal(doc!.n, writers * rounds, 'every increment landed');
        for (let i = 0; i < writers; i++) assert.equal(doc!.by[`w${i}`], rounds);
        assert.equal(attempts.length, writers * rounds);
        assert.ok(attempts.every((a) => a >= 1 && a <= 101));
        const total = attempts.reduce((s, a) => s + a, 0);
        assert.ok(total >= writers * rounds + writers - 1, `expected at least ${writers - 1} conflicts, got ${total - writers * rounds}`);
      } finally {
        await Promise.all(conns.map((c) => c.close()));
      }
    });

    it('state: update() gives up after its retries with the ConflictError', async () => {
      const key = `${p}state:giveup`;
      const st = sw.state<{ n: number }>(key, { retries: 3, baseDelayMs: 1 });
      let calls = 0;
      await assert.rejects(
        st.update(async (doc) => {
          calls++;
          await sw.snapshot.save(key, { n: -1 }); // someone else always writes in between
          return { n: (doc?.n ?? 0) + 1 };
        }),
        (e: unknown) => {
          assert.ok(e instanceof ConflictError);
          assert.equal(e.attempts, 4);
          assert.equal(e.current, e.expected! + 1);
          return true;
        },
      );
      assert.equal(calls, 4);
    });
  });
}
