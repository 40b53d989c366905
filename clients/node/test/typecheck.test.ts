/**
 * Compile-time checks (this file fails to build if they break): real client objects are
 * accepted by new Swarm() without casts, the module and ioredis shapes are typed, EditOp
 * rejects a misspelled op, payloads are generic, error codes are a union.
 */
import { test } from 'node:test';
import { createClient } from 'redis';
import { createClient as createClient4 } from 'redis4';
import { Redis } from 'ioredis';
import { Swarm, SwarmError, swarm, type EditOp, type ErrorCode, type PublishResult } from '../dist/index.js';
import '../dist/ioredis.js';

test('node-redis 4/5 and ioredis clients type-check as Swarm clients', () => {
  const make = (): Swarm[] => [
    new Swarm(createClient()),
    new Swarm(createClient({ RESP: 3 })),
    new Swarm(createClient4()),
    new Swarm(new Redis({ lazyConnect: true })),
    new Swarm(createClient({ modules: { swarm } })),
  ];
  void make;
});

test('the shapes carry the reply types; EditOp and error codes are closed unions', () => {
  const check = async (sw: Swarm, io: Redis): Promise<void> => {
    const client = createClient({ modules: { swarm } });
    const a: PublishResult = await client.swarm.publish('k', 't', {});
    const b: PublishResult = await io.swarm.publish('k', 't', {});
    const id: string = a.id; // never null
    io.multi().swarm.routeAdd('k', 'a.>', 'channel:c').swarm.routeStats('k');
    // @ts-expect-error: 'replase' is not an op
    const bad: EditOp = { op: 'replase', path: '/a', value: 1 };
    // @ts-expect-error: move needs `from`
    const noFrom: EditOp = { op: 'move', path: '/a' };
    const sub = await sw.subscribe<{ n: number }>('k');
    for await (const m of sub) {
      const n: number = m.payload.n;
      void n;
    }
    const c = sw.consumer<{ i: number }>({ stream: 's', group: 'g', consumer: 'c' });
    for (const m of await c.read()) {
      const i: number = m.payload.i;
      void i;
    }
    const e = new SwarmError('CONFLICT', 'version is 2, expected 1');
    const code: ErrorCode = e.code;
    // @ts-expect-error: not a code word
    const typo: ErrorCode = 'CONFLCT';
    void [b, id, bad, noFrom, code, typo];
  };
  void check;
});
