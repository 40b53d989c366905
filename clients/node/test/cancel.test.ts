/**
 * Cancellation and blocking semantics, for every client kind: WAIT, consumer reads and
 * subscriptions take an AbortSignal, block on connections of their own (the shared client
 * keeps answering), treat 0 as "forever" as Redis does, and free their connections when
 * aborted, closed or left. Also: a server without the module answers ModuleMissingError.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createClient } from 'redis';
import { ModuleMissingError, Swarm } from '../dist/index.js';
import { CLIENTS, openSwarm, startServer, type Server } from './harness.js';

let server: Server;
let bare: Server;
let probe: ReturnType<typeof createClient>;
before(async () => {
  server = await startServer();
  bare = await startServer([], { module: false });
  probe = createClient({ url: server.url });
  await probe.connect();
});
after(async () => {
  probe?.destroy();
  await server?.stop();
  await bare?.stop();
});

async function until(what: string, test: () => Promise<boolean>, ms = 10000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function clients(): Promise<number> {
  return String(await probe.sendCommand(['CLIENT', 'LIST'])).trim().split('\n').length;
}

async function blocked(): Promise<number> {
  const m = /blocked_clients:(\d+)/.exec(String(await probe.sendCommand(['INFO', 'clients'])));
  return Number(m![1]);
}

function isAbort(e: unknown): boolean {
  return e instanceof Error && e.name === 'AbortError';
}

for (const kind of CLIENTS) {
  describe(kind.name, () => {
    let sw: Swarm;
    let close: () => Promise<void>;
    let base: number;
    const p = `${kind.name.replace(/\W+/g, '-')}:`;
    before(async () => {
      ({ sw, close } = await openSwarm(kind, server.port));
    });
    after(async () => close());

    it('WAIT: 0 waits forever on its own connection; an abort frees it; a timeout answers null', async () => {
      const key = `${p}wait`;
      await sw.snapshot.save(key, { v: 1 });
      base = await clients();
      const ctl = new AbortController();
      const aborted = sw.snapshot.wait(key, 1, 0, { signal: ctl.signal });
      const forever = sw.snapshot.wait(key, 1, 0);
      await until('two blocked WAITs', async () => (await blocked()) === 2);
      // The shared connection is not held up by either.
      assert.equal(await sw.snapshot.get(key, { path: '/v' }), 1);
      ctl.abort();
      await assert.rejects(aborted, isAbort);
      await until('the aborted WAIT to leave', async () => (await blocked()) === 1);
      assert.equal(await sw.snapshot.save(key, { v: 2 }), 2);
      assert.equal(await forever, 2);
      assert.equal(await sw.snapshot.wait(key, 2, 30), null);
      await assert.rejects(sw.snapshot.wait(key, 2, 0, { signal: AbortSignal.abort() }), isAbort);
      await until('the WAIT connections to close', async () => (await clients()) === base);
    });

    it('watch() yields new versions on one connection; leaving the loop closes it', async () => {
      const key = `${p}watch`;
      await sw.snapshot.save(key, { n: 0 });
      base = await clients();
      const seen: number[] = [];
      const loop = (async () => {
        for await (const v of sw.snapshot.watch(key)) {
          seen.push(v);
          if (v === 3) break;
        }
      })();
      await until('the watch to block', async () => (await blocked()) === 1);
      await sw.snapshot.save(key, { n: 1 });
      await until('version 2 seen', async () => seen.includes(2));
      await sw.snapshot.save(key, { n: 2 });
      await loop;
      assert.deepEqual(seen, [2, 3]);
      await until('the watch connection to close', async () => (await clients()) === base);
    });

    it('consumer: blockMs 0 blocks until an entry; an aborted read frees its connection', async () => {
      const key = `${p}swarm:cons`;
      const stream = `${p}cons`;
      await sw.route.add(key, 'job.>', `stream:${stream}`);
      const c = sw.consumer<{ i: number }>({ stream, group: 'g', consumer: 'w', blockMs: 0 });
      await c.ensureGroup();
      base = await clients();
      const read = c.read();
      await until('the read to block', async () => (await blocked()) === 1);
      await sw.publish(key, 'job.x', { i: 1 });
      const got = await read;
      assert.deepEqual(got.map((m) => m.payload.i), [1]);
      assert.equal(await c.ack(...got), 1);
      const ctl = new AbortController();
      const cancelled = c.read({ signal: ctl.signal });
      await until('the read to block', async () => (await blocked()) === 1);
      ctl.abort();
      await assert.rejects(cancelled, isAbort);
      await until('the aborted read to leave', async () => (await blocked()) === 0);
      // The next read opens a connection again.
      await sw.publish(key, 'job.x', { i: 2 });
      assert.deepEqual((await c.read()).map((m) => m.payload.i), [2]);
      await c.close();
      await until('the consumer connection to close', async () => (await clients()) === base);
    });

    it('consumer: leaving for-await frees the connection; the consumer signal ends a loop', async () => {
      const key = `${p}swarm:loop`;
      const stream = `${p}loop`;
      await sw.route.add(key, 'job.>', `stream:${stream}`);
      base = await clients();
      const c = sw.consumer<{ i: number }>({ stream, group: 'g', consumer: 'w', blockMs: 0 });
      await c.ensureGroup();
      await sw.publish(key, 'job.x', { i: 1 });
      for await (const m of c) {
        await c.ack(m);
        break;
      }
      assert.ok(c.isClosed);
      await until('the consumer connection to close', async () => (await clients()) === base);

      const ctl = new AbortController();
      const d = sw.consumer({ stream, group: 'g', consumer: 'w2', blockMs: 0, signal: ctl.signal });
      const loop = (async () => {
        for await (const m of d) await d.ack(m);
      })();
      await until('the loop to block', async () => (await blocked()) === 1);
      ctl.abort();
      await assert.rejects(loop, isAbort);
      await until('the consumer connection to close', async () => (await clients()) === base);
    });

    it('subscription: an abort rejects the pending next() and frees the connection', async () => {
      base = await clients();
      const ctl = new AbortController();
      const sub = await sw.subscribe('unused', { channels: [`${p}quiet`], signal: ctl.signal });
      const pending = sub.next();
      ctl.abort();
      await assert.rejects(pending, isAbort);
      assert.ok(sub.isClosed);
      await until('the subscription connection to close', async () => (await clients()) === base);
      await assert.rejects(sw.subscribe('unused', { channels: ['x'], signal: AbortSignal.abort() }), isAbort);
    });

    it('a server without the module answers ModuleMissingError', async () => {
      const { sw: other, close: closeOther } = await openSwarm(kind, bare.port);
      try {
        await assert.rejects(other.publish('swarm:ops', 'a.b', {}), (e: unknown) => {
          assert.ok(e instanceof ModuleMissingError);
          assert.equal(e.code, 'ERR');
          assert.equal(e.command, 'SWARM.PUBLISH');
          assert.match(e.message, /swarm module is not loaded/);
          return true;
        });
        await assert.rejects(other.snapshot.get('k'), ModuleMissingError);
      } finally {
        await closeOther();
      }
    });
  });
}

it('one signal shared by many waits and consumers prints no listener warning', async () => {
  const { sw, close } = await openSwarm(CLIENTS[0]!, server.port);
  const warnings: Error[] = [];
  const onWarning = (w: Error): void => void warnings.push(w);
  process.on('warning', onWarning);
  try {
    const ctl = new AbortController();
    await sw.snapshot.save('shared:signal', {});
    const waits = Array.from({ length: 15 }, () => sw.snapshot.wait('shared:signal', 1, 0, { signal: ctl.signal }));
    const consumers = Array.from({ length: 15 }, (_, i) =>
      sw.consumer({ stream: 'shared:s', group: 'g', consumer: `c${i}`, blockMs: 0, signal: ctl.signal }));
    const reads = consumers.map((c) => c.read());
    await until('30 blocked clients', async () => (await blocked()) === 30);
    ctl.abort();
    for (const r of [...waits, ...reads]) await assert.rejects(r, isAbort);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(warnings.map((w) => w.name), []);
  } finally {
    process.off('warning', onWarning);
    await close();
  }
});
