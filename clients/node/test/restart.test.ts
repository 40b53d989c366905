/**
 * The server is killed (kill -9) and restarted on the same port, with AOF on, in the middle
 * of a subscription, a consumer-group read and a WAIT, for every client kind at once:
 *
 * - the process survives (an unhandled 'error' event would end this test process), and
 *   nothing is printed (ioredis prints unhandled connection errors);
 * - the outage is reported to the application as connection events, down then up;
 * - the subscription receives what is published after the restart;
 * - every stream entry published before and after the restart reaches the group and is
 *   acknowledged exactly once (XACK answering 1 once per entry, nothing left pending);
 * - the WAIT begun before the kill completes with the version written after the restart;
 * - leaving the loops frees every connection Swarm opened.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { createClient as createClient5 } from 'redis';
import { createClient as createClient4 } from 'redis4';
import { Redis } from 'ioredis';
import { Swarm, type ConnectionEvent, type Message } from '../dist/index.js';
import { startServer, type Server } from './harness.js';

let server: Server;
before(async () => {
  server = await startServer(['--appendonly', 'yes', '--appendfsync', 'always']);
});
after(async () => {
  await server?.stop();
});

interface App {
  name: string;
  sw: Swarm;
  close(): Promise<void>;
}

// The application's own clients, each with its own error listener, as an application has.
async function apps(port: number): Promise<App[]> {
  const url = `redis://127.0.0.1:${port}`;
  const quiet = (): void => undefined;
  const n5a = createClient5({ url });
  n5a.on('error', quiet);
  const n5b = createClient5({ url, RESP: 3 });
  n5b.on('error', quiet);
  const n4 = createClient4({ url });
  n4.on('error', quiet);
  const io = new Redis(port, '127.0.0.1');
  io.on('error', quiet);
  await Promise.all([n5a.connect(), n5b.connect(), n4.connect()]);
  return [
    { name: 'n5-resp2', sw: new Swarm(n5a), close: async () => void n5a.destroy() },
    { name: 'n5-resp3', sw: new Swarm(n5b), close: async () => void n5b.destroy() },
    { name: 'n4', sw: new Swarm(n4), close: async () => void (await n4.disconnect()) },
    { name: 'io', sw: new Swarm(io), close: async () => void io.disconnect() },
  ];
}

async function until(what: string, test: () => Promise<boolean> | boolean, ms = 20000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

it('kill -9 and restart during a subscription, a consumer-group read and a WAIT', async () => {
  const printed: unknown[][] = [];
  const saved = { error: console.error, warn: console.warn, log: console.log };
  console.error = (...a: unknown[]) => void printed.push(a);
  console.warn = (...a: unknown[]) => void printed.push(a);
  const all = await apps(server.port);
  const probe = await createClient5({ url: server.url }).on('error', () => undefined).connect();
  const cleanup: Array<() => Promise<void>> = [];
  try {
    const runs = await Promise.all(all.map(async ({ name, sw }) => {
      const key = `${name}:swarm`;
      const events: ConnectionEvent[] = [];
      sw.on('connection', (e) => events.push(e));
      await sw.route.add(key, 'task.>', `stream:${name}:jobs`);
      await sw.route.add(key, 'note.>', `channel:${name}:notes`);
      await sw.snapshot.save(`${name}:state`, { step: 1 });

      const sub = await sw.subscribe<{ n: number }>(key);
      cleanup.push(() => sub.close());
      const notes: Message<{ n: number }>[] = [];
      const subLoop = (async () => {
        for await (const m of sub) {
          notes.push(m);
          if (m.payload.n === 2) break;
        }
      })();

      const consumer = sw.consumer<{ i: number }>({ stream: `${name}:jobs`, group: 'g', consumer: 'w', blockMs: 0 });
      cleanup.push(() => consumer.close());
      await consumer.ensureGroup();
      const acked = new Map<string, number>();
      const seen: number[] = [];
      const consumerLoop = (async () => {
        for await (const m of consumer) {
          seen.push(m.payload.i);
          const id = m.entryId!;
          acked.set(id, (acked.get(id) ?? 0) + (await consumer.ack(m)));
          if (acked.size === 10 && [...acked.values()].every((v) => v >= 1)) break;
        }
      })();

      const wait = sw.snapshot.wait(`${name}:state`, 1, 0);
      wait.catch(() => undefined); // awaited below; a rejection is not unhandled meanwhile
      return { name, sw, key, events, sub, notes, subLoop, consumer, acked, seen, consumerLoop, wait };
    }));

    // Before the restart: a note is received, five entries are delivered and acknowledged.
    for (const r of runs) {
      await r.sw.publish(r.key, 'note.x', { n: 1 });
      for (let i = 0; i < 5; i++) await r.sw.publish(r.key, 'task.x', { i });
    }
    await until('5 acks per consumer and a note per subscription', () =>
      runs.every((r) => r.acked.size === 5 && r.notes.length === 1));

    await server.kill();
    await server.restart();

    // The subscriptions are back once the server counts a subscriber on each channel again.
    await until('re-subscription', async () => {
      const counts = await Promise.all(runs.map((r) => probe.pubSubNumSub(`${r.name}:notes`)));
      return counts.every((c, i) => c[`${runs[i]!.name}:notes`] === 1);
    });
    for (const r of runs) {
      for (let i = 5; i < 10; i++) await r.sw.publish(r.key, 'task.x', { i });
      assert.equal((await r.sw.publish(r.key, 'note.x', { n: 2 })).receivers, 1, r.name);
      await r.sw.snapshot.save(`${r.name}:state`, { step: 2 });
    }

    for (const r of runs) {
      assert.equal(await r.wait, 2, `${r.name}: WAIT completes with the version written after the restart`);
      await r.consumerLoop;
      await r.subLoop;
      assert.deepEqual(r.notes.map((m) => m.payload.n), [1, 2], r.name);
      assert.equal(r.acked.size, 10, `${r.name}: every entry acknowledged`);
      assert.ok([...r.acked.values()].every((v) => v === 1), `${r.name}: each acknowledged once`);
      assert.deepEqual([...new Set(r.seen)].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], r.name);
      assert.equal(await r.consumer.pending(), 0, r.name);
      assert.ok(r.consumer.isClosed, `${r.name}: leaving the loop closed the consumer`);
      assert.ok(r.sub.isClosed, `${r.name}: leaving the loop closed the subscription`);
      const roles = new Set(r.events.filter((e) => e.state === 'down').map((e) => e.role));
      assert.deepEqual([...roles].sort(), ['consumer', 'subscription', 'wait'], `${r.name}: outage reported`);
      for (const role of roles) {
        const states = r.events.filter((e) => e.role === role).map((e) => e.state);
        assert.equal(states.at(-1), 'up', `${r.name} ${role}: recovery reported`);
      }
    }
    assert.deepEqual(printed, [], 'nothing printed');

    // Only the application's own clients (and the probe) are left connected.
    await until('the connections of the library to close', async () => {
      const list = String(await probe.sendCommand(['CLIENT', 'LIST']));
      return list.trim().split('\n').length === all.length + 1;
    });
  } finally {
    Object.assign(console, saved);
    for (const c of cleanup) await c();
    for (const a of all) await a.close();
    probe.destroy();
  }
});
