/** Compile-time check: real client objects are accepted by new Swarm() without casts. */
import { test } from 'node:test';
import { createClient } from 'redis';
import { createClient as createClient4 } from 'redis4';
import { Redis } from 'ioredis';
import { Swarm } from '../dist/index.js';

test('node-redis 4/5 and ioredis clients type-check as Swarm clients', () => {
  const make = (): Swarm[] => [
    new Swarm(createClient()),
    new Swarm(createClient({ RESP: 3 })),
    new Swarm(createClient4()),
    new Swarm(new Redis({ lazyConnect: true })),
  ];
  void make;
});
