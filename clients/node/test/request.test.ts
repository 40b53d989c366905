/**
 * request()/reply() against a real server, for every client kind: 200 concurrent requests
 * answered by 3 responders of a consumer group, each reply matched to its own request; one
 * inbox channel per Swarm however many requests; the first of several replies wins and the
 * others are counted late; a responder that never answers (timeout); a requester that
 * aborts; a reply that comes after its request timed out is counted, not delivered; replies
 * to a stream target.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RequestTimeoutError, Swarm, type Message, type StreamConsumer } from '../dist/index.js';
import { CLIENTS, openSwarm, startServer, type Server } from './harness.js';

let server: Server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function channelsMatching(sw: Swarm, pattern: string): Promise<string[]> {
  return ((await sw.call('PUBSUB', 'CHANNELS', pattern)) as unknown[]).map(String);
}

for (const kind of CLIENTS) {
  describe(kind.name, () => {
    let sw: Swarm;
    let close: () => Promise<void>;
    const p = `${kind.name.replace(/\W+/g, '-')}:`;
    before(async () => {
      ({ sw, close } = await openSwarm(kind, server.port));
    });
    after(async () => {
      await sw.close();
      await close();
    });

    it('200 concurrent requests over 3 responders: every reply matched, one inbox', async () => {
      const key = `${p}swarm:rpc`;
      const stream = `${p}rpc:q`;
      await sw.route.add(key, 'ask.>', `stream:${stream}`);
      const responders: Array<{ sw: Swarm; close(): Promise<void>; c: StreamConsumer; done: Promise<number> }> = [];
      for (const name of ['r1', 'r2', 'r3']) {
        const r = await openSwarm(kind, server.port);
        const c = r.sw.consumer({ stream, group: 'responders', consumer: name, blockMs: 50, count: 20 });
        const done = (async () => {
          let answered = 0;
          for await (const m of c as AsyncIterable<Message<{ i: number }>>) {
            await r.sw.reply(m, { echo: m.payload.i }, { sender: name });
            await c.ack(m);
            answered++;
          }
          return answered;
        })();
        responders.push({ ...r, c, done });
      }
      try {
        const lateBefore = sw.lateReplies;
        const replies = await Promise.all(
          Array.from({ length: 200 }, (_, i) => sw.request<{ echo: number }>(key, 'ask.echo', { i }, { timeoutMs: 20_000 })),
        );
        replies.forEach((r, i) => {
          assert.equal(r.payload.echo, i, `request ${i} got its own reply`);
          assert.match(r.sender!, /^r[123]$/);
          assert.match(r.corr, /^\d+-\d+$/);
        });
        assert.equal(new Set(replies.map((r) => r.corr)).size, 200);
        assert.equal(sw.lateReplies, lateBefore);
        const inboxes = await channelsMatching(sw, 'swarm.inbox.*');
        assert.deepEqual(inboxes, [...sw.inboxChannels], 'one inbox channel for all the requests through this table');
        assert.equal(inboxes.length, 1);
      } finally {
        for (const r of responders) await r.c.close();
        const answered = await Promise.all(responders.map((r) => r.done));
        assert.equal(answered.reduce((a, b) => a + b, 0), 200);
        for (const r of responders) await r.close();
      }
    });

    it('two tables feeding one stream (equal message ids possible): every reply matched', async () => {
      const stream = `${p}rpc2:q`;
      const tables = [`${p}swarm:rpcA`, `${p}swarm:rpcB`];
      for (const t of tables) await sw.route.add(t, 'ask.>', `stream:${stream}`);
      const r = await openSwarm(kind, server.port);
      const c = r.sw.consumer({ stream, group: 'responders', consumer: 'r', blockMs: 50, count: 50 });
      const ids: string[] = [];
      const done = (async () => {
        for await (const m of c as AsyncIterable<Message<{ t: string; i: number }>>) {
          ids.push(m.id);
          await r.sw.reply(m, m.payload);
          await c.ack(m);
        }
      })();
      try {
        const lateBefore = sw.lateReplies;
        const asks = Array.from({ length: 100 }, (_, i) => ({ t: tables[i % 2]!, i }));
        const replies = await Promise.all(
          asks.map((a) => sw.request<{ t: string; i: number }>(a.t, 'ask.x', a, { timeoutMs: 20_000 })),
        );
        replies.forEach((rep, n) => assert.deepEqual(rep.payload, asks[n]));
        assert.equal(sw.lateReplies, lateBefore);
        assert.equal(ids.length, 100);
        const inboxes = await channelsMatching(sw, 'swarm.inbox.*');
        assert.equal(inboxes.length, 3, 'one channel per table (this one, A, B)');
      } finally {
        await c.close();
        await done;
        await r.close();
      }
    });

    it('several replies: the first wins, the others are late and counted', async () => {
      const key = `${p}swarm:bcast`;
      await sw.route.add(key, 'ask.>', `channel:${p}bcast`);
      const subs = await Promise.all([1, 2, 3].map(async (n) => ({ n, sub: await sw.subscribe(key) })));
      const answering = subs.map(async ({ n, sub }) => {
        const m = (await sub.next()).value!;
        await sw.reply(m, { n });
        await sub.close();
      });
      const before = sw.lateReplies;
      const r = await sw.request<{ n: number }>(key, 'ask.who', {}, { timeoutMs: 10_000 });
      assert.ok([1, 2, 3].includes(r.payload.n));
      await Promise.all(answering);
      await until(() => sw.lateReplies === before + 2, 'two late replies');
    });

    it('a responder that never answers: RequestTimeoutError; a reply after it is late', async () => {
      const key = `${p}swarm:silent`;
      await sw.route.add(key, 'ask.>', `channel:${p}silent`);
      const sub = await sw.subscribe(key);
      try {
        const before = sw.lateReplies;
        const err = await sw.request(key, 'ask.q', { q: 1 }, { timeoutMs: 400 }).then(
          () => assert.fail('resolved without a reply'),
          (e: unknown) => e,
        );
        assert.ok(err instanceof RequestTimeoutError);
        assert.equal(err.name, 'RequestTimeoutError');
        assert.equal(err.timeoutMs, 400);
        const m = (await sub.next()).value!;
        assert.equal(err.requestId, m.id);
        assert.ok(sw.inboxChannels.map((c) => `channel:${c}`).includes(m.replyTo!));
        // Now answer: the request is gone, so the reply is counted and dropped.
        assert.equal((await sw.reply(m, 'too late')).receivers, 1);
        await until(() => sw.lateReplies === before + 1, 'the late reply counted');
        // A later request is not answered by it.
        await assert.rejects(sw.request(key, 'ask.q', { q: 2 }, { timeoutMs: 100 }), RequestTimeoutError);
      } finally {
        await sub.close();
      }
    });

    it('a requester that aborts: rejects with the reason; a reply after it is late', async () => {
      const key = `${p}swarm:abort`;
      await sw.route.add(key, 'ask.>', `channel:${p}abort`);
      const sub = await sw.subscribe(key);
      try {
        const before = sw.lateReplies;
        const ac = new AbortController();
        const pending = sw.request(key, 'ask.q', {}, { signal: ac.signal, timeoutMs: 60_000 });
        const m = (await sub.next()).value!;
        ac.abort();
        await assert.rejects(pending, (e: unknown) => (e as Error).name === 'AbortError');
        await sw.reply(m, 'after abort');
        await until(() => sw.lateReplies === before + 1, 'the late reply counted');
        const done = new AbortController();
        done.abort(new Error('gave up'));
        await assert.rejects(sw.request(key, 'ask.q', {}, { signal: done.signal }), /gave up/);
      } finally {
        await sub.close();
      }
    });

    it('reply() to a stream target writes corr, ts, sender and payload', async () => {
      const key = `${p}swarm:sreply`;
      await sw.route.add(key, 'ask.>', `channel:${p}sreply`);
      const sub = await sw.subscribe(key);
      try {
        await sw.publish(key, 'ask.q', {}, { replyTo: `stream:${p}answers` });
        const m = (await sub.next()).value!;
        const sent = await sw.reply(m, { ok: true }, { sender: 'agent-7' });
        assert.match(sent.entryId!, /^\d+-\d+$/);
        const entries = (await sw.call('XRANGE', `${p}answers`, '-', '+')) as Array<[string, string[]]>;
        assert.equal(entries.length, 1);
        const fields = entries[0]![1];
        const flat = Array.isArray(fields) ? fields : Object.entries(fields as object).flat();
        assert.deepEqual(flat.filter((_, i) => i % 2 === 0), ['corr', 'ts', 'sender', 'payload']);
        assert.equal(flat[1], m.id);
        assert.equal(flat[5], 'agent-7');
        assert.equal(flat[7], '{"ok":true}');
        await assert.rejects(sw.reply({ id: '1-0' }, {}), TypeError);
      } finally {
        await sub.close();
      }
    });
  });
}
