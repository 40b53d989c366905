/**
 * SwarmSaver beyond LangGraph's suite: the storage layout (one swarm-snp version per
 * checkpoint, written as an EDIT of what changed), two writers on one thread, KEEP, forks
 * carrying channel values over, the serializer for values that are not plain JSON, and
 * deleteThread. Runs over node-redis (RESP2, RESP3) and ioredis.
 */
import { inject } from 'vitest';
import {
  JsonPlusSerializer,
  emptyCheckpoint,
  uuid6,
  type Checkpoint,
  type CheckpointMetadata,
  type SerializerProtocol,
} from '@langchain/langgraph-checkpoint';
import type { RunnableConfig } from '@langchain/core/runnables';
import { Swarm, toTransport, type Transport } from 'swarm-redis';
import { SwarmSaver, applyJsonPatch, jsonEqual, jsonPatchDiff, type Json } from '../src/index.js';
import { objectMembers } from '../src/jsontext.js';
import { CLIENTS, type Opened } from './server.js';

const port = inject('redisPort');
const meta = (step: number): CheckpointMetadata => ({ source: 'loop', step, parents: {} });

function checkpoint(values: Record<string, unknown>, versions: Record<string, number>): Checkpoint {
  return { ...emptyCheckpoint(), id: uuid6(-3), channel_values: values, channel_versions: versions };
}

/**
 * A transport that logs every command with how many replies had come back when it was
 * sent: commands sent with the same count went out before any of their replies, in one
 * round trip.
 */
function spyOn(client: unknown): { transport: Transport; log: Array<{ args: string[]; after: number }>; reset(): void } {
  const inner = toTransport(client as never);
  const log: Array<{ args: string[]; after: number }> = [];
  let replies = 0;
  const transport: Transport = {
    kind: inner.kind,
    call: (args) => {
      log.push({ args: [...args], after: replies });
      return inner.call(args).finally(() => replies++);
    },
    duplicate: () => inner.duplicate(),
    subscribe: (c, l) => inner.subscribe(c, l),
    unsubscribe: (c) => inner.unsubscribe(c),
    close: () => inner.close(),
  };
  return { transport, log, reset: () => void log.splice(0) };
}

/** How many round trips the logged commands took (distinct reply counts at sending). */
function roundTrips(log: Array<{ after: number }>): number {
  return new Set(log.map((l) => l.after)).size;
}

async function keysOf(sw: Swarm, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = (await sw.call('SCAN', cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)) as [string, string[]];
    cursor = String(next);
    out.push(...keys);
  } while (cursor !== '0');
  return out.sort();
}

describe('jsonPatchDiff', () => {
  // A seeded generator of JSON values and mutations: diff(a, b) applied to a must give b.
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const gen = (depth: number): Json => {
    const k = rnd(depth > 2 ? 4 : 7);
    if (k === 0) return null;
    if (k === 1) return rnd(2) === 1;
    if (k === 2) return rnd(1000) - 500;
    if (k === 3) return ['a', 'b/c', 'd~e', ''][rnd(4)]!;
    if (k === 4 || k === 5) return Array.from({ length: rnd(5) }, () => gen(depth + 1));
    return Object.fromEntries(Array.from({ length: rnd(5) }, () => [['x', 'y', 'a/b', 'm~n', ''][rnd(5)]!, gen(depth + 1)]));
  };
  const mutate = (v: Json, depth: number): Json => {
    if (rnd(4) === 0 || depth > 3) return gen(depth);
    if (Array.isArray(v)) {
      const a = v.map((x) => (rnd(3) === 0 ? mutate(x, depth + 1) : x));
      const op = rnd(4);
      if (op === 0) a.push(gen(depth + 1));
      if (op === 1 && a.length > 0) a.shift();
      if (op === 2 && a.length > 0) a.splice(rnd(a.length), 1);
      return a;
    }
    if (v !== null && typeof v === 'object') {
      const o: { [k: string]: Json } = {};
      for (const [k, x] of Object.entries(v)) if (rnd(5) !== 0) o[k] = rnd(3) === 0 ? mutate(x, depth + 1) : x;
      if (rnd(3) === 0) o[`n${rnd(10)}`] = gen(depth + 1);
      return o;
    }
    return gen(depth);
  };

  test('turns any value into any other (seeded, 2000 pairs)', () => {
    for (let i = 0; i < 2000; i++) {
      const s = seed;
      const a = { root: gen(0) };
      const b = { root: mutate(a.root, 0) };
      const ops = jsonPatchDiff(a, b);
      expect(jsonEqual(applyJsonPatch(a, ops), b), `seed ${s}`).toBe(true);
    }
  });

  test('appending to an array is one add, and equal values give no op', () => {
    const a = { messages: [{ t: 'hi' }, { t: 'there' }], n: 1 };
    expect(jsonPatchDiff(a, { messages: [...a.messages, { t: 'new' }], n: 1 })).toEqual([
      { op: 'add', path: '/messages/-', value: { t: 'new' } },
    ]);
    expect(jsonPatchDiff(a, structuredClone(a))).toEqual([]);
    expect(jsonPatchDiff({ 'a/b': 1 }, { 'a/b': 2 })).toEqual([{ op: 'replace', path: '/a~1b', value: 2 }]);
  });
});

describe('objectMembers', () => {
  test('splits any object into its members, as JSON.parse reads them (seeded, 500 objects)', () => {
    let seed = 99;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const strs = ['', 'a', 'q"uote', 'back\\slash\\', 'br}ace]s{[', '\u00e9\n', 'x\\"y', ',:'];
    const gen = (d: number): unknown => {
      const k = rnd(d > 2 ? 5 : 7);
      if (k === 0) return null;
      if (k === 1) return rnd(2) === 1;
      if (k === 2) return (rnd(2000) - 1000) / 8;
      if (k === 3 || k === 4) return JSON.parse(`"${strs[rnd(strs.length)]}"`);
      if (k === 5) return Array.from({ length: rnd(4) }, () => gen(d + 1));
      return Object.fromEntries(Array.from({ length: rnd(4) }, () => [JSON.parse(`"${strs[rnd(strs.length)]}"`), gen(d + 1)]));
    };
    for (let i = 0; i < 500; i++) {
      const obj = Object.fromEntries(Array.from({ length: rnd(6) }, (_, j) => [`m${j}${strs[rnd(strs.length)]}`, gen(0)]));
      for (const text of [JSON.stringify(obj), JSON.stringify(obj, null, rnd(3))]) {
        const members = objectMembers(text);
        expect(members.map(([k]) => k)).toEqual(Object.keys(obj));
        for (const [k, v] of members) expect(JSON.parse(v)).toEqual((obj as Record<string, unknown>)[k]);
      }
    }
    expect(() => objectMembers('[1]')).toThrow(SyntaxError);
  });
});

for (const kind of CLIENTS) {
  describe(`SwarmSaver over ${kind.name}`, () => {
    let opened: Opened;
    let sw: Swarm;
    let prefix: string;
    let n = 0;
    beforeAll(async () => {
      opened = await kind.open(port);
      sw = new Swarm(opened.client as never);
    });
    afterAll(async () => {
      await opened.close();
    });
    beforeEach(() => {
      prefix = `t:${process.pid}:${kind.name.replace(/\W/g, '')}:${++n}:`;
    });

    test('a thread is one swarm-snp key, one version per checkpoint, each put an EDIT of what changed', async () => {
      const sent: string[][] = [];
      const inner = toTransport(opened.client as never);
      const spy: Transport = {
        kind: inner.kind,
        call: (args) => {
          sent.push([...args]);
          return inner.call(args);
        },
        duplicate: () => inner.duplicate(),
        subscribe: (c, l) => inner.subscribe(c, l),
        unsubscribe: (c) => inner.unsubscribe(c),
        close: () => inner.close(),
      };
      const saver = new SwarmSaver(spy, { prefix });
      const big = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`field${i}`, `value ${i} `.repeat(10)]));
      let config: RunnableConfig = { configurable: { thread_id: 'th', checkpoint_ns: '' } };
      const ids: string[] = [];
      for (let step = 0; step < 10; step++) {
        const state = { ...big, field7: `changed at ${step}` };
        const cp = checkpoint({ state, messages: Array.from({ length: step }, (_, i) => `m${i}`) }, { state: step + 1, messages: step + 1 });
        config = await saver.put(config, cp, meta(step), { state: step + 1, messages: step + 1 });
        ids.push(cp.id);
      }
      const key = saver.historyKey('th', '');
      expect(await sw.call('TYPE', key)).toBe('swarm-snp');
      const info = await sw.snapshot.info(key);
      expect(info.head).toBe(10);
      expect(info.retained).toBe(10);
      expect(info.keep).toBe(1_000_000);
      // The first checkpoint is a SAVE of the whole document, every later one a small EDIT.
      const writes = sent.filter((a) => a[0] === 'SWARM.SNAPSHOT' && (a[1] === 'SAVE' || a[1] === 'EDIT'));
      expect(writes.map((a) => a[1])).toEqual(['SAVE', ...Array(9).fill('EDIT')]);
      expect(writes[0]![3]!.length).toBeGreaterThan(20_000);
      for (const w of writes.slice(1)) expect(w[3]!.length).toBeLessThan(1000);
      // The growing messages channel is appended to, not rewritten.
      for (const w of writes.slice(2)) expect(w[3]).toContain('{"op":"add","path":"/c/v/messages/-","value":"m');
      // Every checkpoint reads back by id, with its own values.
      for (let step = 0; step < 10; step++) {
        const t = await saver.getTuple({ configurable: { thread_id: 'th', checkpoint_ns: '', checkpoint_id: ids[step] } });
        expect(t?.checkpoint.id).toBe(ids[step]);
        expect((t?.checkpoint.channel_values['state'] as Record<string, string>)['field7']).toBe(`changed at ${step}`);
        expect(t?.checkpoint.channel_values['messages']).toHaveLength(step);
        expect(t?.parentConfig?.configurable?.['checkpoint_id']).toBe(step === 0 ? undefined : ids[step - 1]);
      }
      const listed = [];
      for await (const t of saver.list({ configurable: { thread_id: 'th' } }, { limit: 4 })) listed.push(t.checkpoint.id);
      expect(listed).toEqual([...ids].reverse().slice(0, 4));
    });

    test('with an opCost, several changes to a small record become one replace of the record', async () => {
      const sent: string[] = [];
      const inner = toTransport(opened.client as never);
      const spy = { ...inner, kind: inner.kind, call: (args: readonly string[]) => (sent.push(args.join(' ')), inner.call(args)) };
      const saver = new SwarmSaver(spy as Transport, { prefix, opCost: 16384 });
      let config: RunnableConfig = { configurable: { thread_id: 'oc' } };
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const cp = checkpoint({ a: i, b: `b${i}`, c: [i] }, { a: i + 1, b: i + 1, c: i + 1 });
        config = await saver.put(config, cp, meta(i), { a: i + 1, b: i + 1, c: i + 1 });
        ids.push(cp.id);
      }
      const edits = sent.filter((c) => c.startsWith('SWARM.SNAPSHOT EDIT'));
      expect(edits).toHaveLength(2);
      for (const e of edits) expect(e).toContain('{"op":"replace","path":"/c","value":{"id":');
      for (let i = 0; i < 3; i++) {
        const t = await saver.getTuple({ configurable: { thread_id: 'oc', checkpoint_id: ids[i] } });
        expect(t?.checkpoint.channel_values).toEqual({ a: i, b: `b${i}`, c: [i] });
        expect(t?.parentConfig?.configurable?.['checkpoint_id']).toBe(i === 0 ? undefined : ids[i - 1]);
      }
    });

    test('two writers on one thread lose no checkpoint', async () => {
      const other = await kind.open(port);
      try {
        const a = new SwarmSaver(opened.client as never, { prefix });
        const b = new SwarmSaver(other.client as never, { prefix });
        const put = async (saver: SwarmSaver, who: string, i: number) => {
          const cp = checkpoint({ [who]: i, shared: `${who}${i}` }, { [who]: i + 1, shared: i + 1 });
          await saver.put({ configurable: { thread_id: 'race' } }, cp, meta(i), { [who]: i + 1, shared: i + 1 });
          return cp.id;
        };
        const ids = await Promise.all(
          Array.from({ length: 40 }, (_, i) => [put(a, 'a', i), put(b, 'b', i)]).flat(),
        );
        const info = await sw.snapshot.info(a.historyKey('race', ''));
        expect(info.head).toBe(80);
        const seen = new Set<string>();
        for await (const t of a.list({ configurable: { thread_id: 'race', checkpoint_ns: '' } })) seen.add(t.checkpoint.id);
        expect([...seen].sort()).toEqual([...ids].sort());
        for (const id of ids.slice(0, 10)) {
          const t = await b.getTuple({ configurable: { thread_id: 'race', checkpoint_id: id } });
          expect(t?.checkpoint.id).toBe(id);
        }
      } finally {
        await other.close();
      }
    });

    test("a reader's cached index does not outlive a thread deleted and written again by another saver", async () => {
      const writer = new SwarmSaver(opened.client as never, { prefix });
      const reader = new SwarmSaver(opened.client as never, { prefix });
      const putTwo = async (tag: string) => {
        let config: RunnableConfig = { configurable: { thread_id: 'stale' } };
        const ids: string[] = [];
        for (let i = 0; i < 2; i++) {
          const cp = checkpoint({ tag: `${tag}${i}` }, { tag: i + 1 });
          config = await writer.put(config, cp, meta(i), { tag: i + 1 });
          ids.push(cp.id);
        }
        return ids;
      };
      const old = await putTwo('old');
      expect((await reader.getTuple({ configurable: { thread_id: 'stale', checkpoint_id: old[1] } }))?.checkpoint.channel_values).toEqual({ tag: 'old1' });
      await writer.deleteThread('stale');
      const fresh = await putTwo('new');
      expect(await reader.getTuple({ configurable: { thread_id: 'stale', checkpoint_id: old[1] } })).toBeUndefined();
      const t = await reader.getTuple({ configurable: { thread_id: 'stale', checkpoint_id: fresh[1] } });
      expect(t?.checkpoint.channel_values).toEqual({ tag: 'new1' });
      expect(t?.parentConfig?.configurable?.['checkpoint_id']).toBe(fresh[0]);
    });

    test('KEEP bounds the history: the oldest checkpoints go, the index and list follow', async () => {
      const saver = new SwarmSaver(opened.client as never, { prefix, keep: 3 });
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const cp = checkpoint({ x: i }, { x: i + 1 });
        await saver.put({ configurable: { thread_id: 'k' } }, cp, meta(i), { x: i + 1 });
        ids.push(cp.id);
      }
      expect((await sw.snapshot.info(saver.historyKey('k', ''))).keep).toBe(3);
      expect(await saver.getTuple({ configurable: { thread_id: 'k', checkpoint_id: ids[0] } })).toBeUndefined();
      expect((await saver.getTuple({ configurable: { thread_id: 'k', checkpoint_id: ids[2] } }))?.checkpoint.channel_values).toEqual({ x: 2 });
      const listed = [];
      for await (const t of saver.list({ configurable: { thread_id: 'k' } })) listed.push(t.checkpoint.id);
      expect(listed).toEqual([ids[4], ids[3], ids[2]]);
      expect(() => new SwarmSaver(opened.client as never, { keep: 0 })).toThrow(RangeError);
      // A Swarm, or something shaped like one (another copy of swarm-redis), works as the client.
      const viaSwarm = new SwarmSaver(sw, { prefix, keep: 3 });
      expect(viaSwarm.swarm).toBe(sw);
      const lookalike = new SwarmSaver({ transport: sw.transport, snapshot: {} } as never, { prefix, keep: 3 });
      expect((await lookalike.getTuple({ configurable: { thread_id: 'k' } }))?.checkpoint.id).toBe(ids[4]);
    });

    test('a fork carries over the channel values of its parent, not of the head', async () => {
      const saver = new SwarmSaver(opened.client as never, { prefix });
      const root = { configurable: { thread_id: 'f', checkpoint_ns: '' } };
      const a = checkpoint({ x: 'x1', y: 'y1' }, { x: 1, y: 1 });
      const aConfig = await saver.put(root, a, meta(0), { x: 1, y: 1 });
      const b = checkpoint({ x: 'x2', y: 'y1' }, { x: 2, y: 1 });
      await saver.put(aConfig, b, meta(1), { x: 2 });
      // A fork from a: x and y keep a's versions, only z is new.
      const c = checkpoint({ x: 'x1', y: 'y1', z: 'z1' }, { x: 1, y: 1, z: 1 });
      const cConfig = await saver.put(aConfig, c, { ...meta(1), source: 'fork' }, { z: 1 });
      const t = await saver.getTuple(cConfig);
      expect(t?.checkpoint.channel_values).toEqual({ x: 'x1', y: 'y1', z: 'z1' });
      expect(t?.parentConfig?.configurable?.['checkpoint_id']).toBe(a.id);
      expect(t?.metadata?.source).toBe('fork');
      const latest = await saver.getTuple(root);
      expect(latest?.checkpoint.id).toBe(c.id);
      expect((await saver.getTuple({ configurable: { thread_id: 'f', checkpoint_id: b.id } }))?.checkpoint.channel_values).toEqual({ x: 'x2', y: 'y1' });
    });

    test("values that are not plain JSON go through LangGraph's serializer", async () => {
      const saver = new SwarmSaver(opened.client as never, { prefix });
      const values = {
        bytes: new Uint8Array([0, 1, 2, 255]),
        set: new Set(['a', 'b']),
        map: new Map([['k', 1]]),
        date: new Date('2026-01-02T03:04:05.000Z'),
      };
      const versions = { bytes: 1, set: 1, map: 1, date: 1 };
      const cp = checkpoint(values, versions);
      const config = await saver.put({ configurable: { thread_id: 's' } }, cp, { ...meta(0), note: new Set([1]) } as never, versions);
      await saver.putWrites(config, [['bytes', new Uint8Array([9])], ['set', new Set([3])]], 'task-1');
      const t = await saver.getTuple(config);
      const jp = new JsonPlusSerializer();
      const expected = await jp.loadsTyped('json', (await jp.dumpsTyped(values.set))[1]);
      expect(t?.checkpoint.channel_values['bytes']).toEqual(new Uint8Array([0, 1, 2, 255]));
      expect(t?.checkpoint.channel_values['set']).toEqual(expected);
      expect(t?.pendingWrites?.[0]).toEqual(['task-1', 'bytes', new Uint8Array([9])]);

      // A string cut inside a character (an unpaired surrogate) is JSON that swarm refuses:
      // that value goes in as base64, the others stay JSON, and all read back as they were.
      const cut = '\ud83d end of a cut emoji';
      const cutVersions = { cut: 1, plain: 1 };
      const cutCp = checkpoint({ cut, plain: 'ok' }, cutVersions);
      const cutConfig = await saver.put({ configurable: { thread_id: 's2' } }, cutCp, { ...meta(0), cut } as never, cutVersions);
      const cutTuple = await saver.getTuple(cutConfig);
      expect(cutTuple?.checkpoint.channel_values).toEqual({ cut, plain: 'ok' });
      expect((cutTuple?.metadata as Record<string, unknown>)['cut']).toBe(cut);
      const stored = (await sw.snapshot.get<{ c: { vt?: Record<string, string>; v: Record<string, unknown> } }>(saver.historyKey('s2', '')))!;
      expect(stored.c.vt).toEqual({ cut: 'json' });
      expect(stored.c.v['plain']).toBe('ok');

      // JSON nested deeper than swarm allows (128) goes in as base64 as well.
      let deep: unknown = 'bottom';
      for (let i = 0; i < 130; i++) deep = { d: deep };
      const deepCp = checkpoint({ deep, plain: 1 }, { deep: 1, plain: 1 });
      const deepConfig = await saver.put({ configurable: { thread_id: 's3' } }, deepCp, meta(0), { deep: 1, plain: 1 });
      expect((await saver.getTuple(deepConfig))?.checkpoint.channel_values).toEqual({ deep, plain: 1 });

      // A serializer of its own is used for everything, and its types are kept.
      const seen: string[] = [];
      const custom: SerializerProtocol = {
        async dumpsTyped(v) {
          seen.push('dump');
          return ['rev', new TextEncoder().encode(JSON.stringify(v).split('').reverse().join(''))];
        },
        async loadsTyped(type, data) {
          expect(type).toBe('rev');
          const s = typeof data === 'string' ? data : new TextDecoder().decode(data);
          return JSON.parse(s.split('').reverse().join(''));
        },
      };
      const saver2 = new SwarmSaver(opened.client as never, { prefix: `${prefix}c:`, serde: custom });
      const cp2 = checkpoint({ a: [1, 2] }, { a: 1 });
      const c2 = await saver2.put({ configurable: { thread_id: 's' } }, cp2, meta(0), { a: 1 });
      await saver2.putWrites(c2, [['a', 'w']], 'task');
      const t2 = await saver2.getTuple(c2);
      expect(t2?.checkpoint).toEqual(cp2);
      expect(t2?.pendingWrites).toEqual([['task', 'a', 'w']]);
      expect(seen.length).toBeGreaterThanOrEqual(4);
    });

    test('one round trip per put and per getTuple once the caches know the thread', async () => {
      const spy = spyOn(opened.client);
      const saver = new SwarmSaver(spy.transport, { prefix });
      let config: RunnableConfig = { configurable: { thread_id: 'rt', checkpoint_ns: '' } };
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) {
        spy.reset();
        const cp = checkpoint({ n: i, messages: Array.from({ length: i + 1 }, (_, j) => `m${j}`) }, { n: i + 1, messages: i + 1 });
        config = await saver.put(config, cp, meta(i), { n: i + 1, messages: i + 1 });
        ids.push(cp.id);
        // The first put reads the (missing) head, then sends the sets, the SAVE and an INFO
        // together; every later one is a single EDIT.
        if (i === 0) expect(roundTrips(spy.log)).toBe(2);
        else expect(spy.log.map((l) => l.args[1])).toEqual(['EDIT']);
      }
      await saver.putWrites(config, [['n', 9]], 'task');
      for (const [i, id] of ids.entries()) {
        spy.reset();
        const t = await saver.getTuple({ configurable: { thread_id: 'rt', checkpoint_ns: '', checkpoint_id: id } });
        expect(t?.checkpoint.channel_values['n']).toBe(i);
        expect(t?.parentConfig?.configurable?.['checkpoint_id']).toBe(i === 0 ? undefined : ids[i - 1]);
        expect(t?.pendingWrites).toEqual(i === 3 ? [['task', 'n', 9]] : []);
        // The record, the INFO vouching for the cached parent id, the writes: one round trip.
        expect(roundTrips(spy.log)).toBe(1);
        expect(spy.log.map((l) => l.args[0]).sort()).toEqual(i === 0 ? ['HGETALL', 'SWARM.SNAPSHOT'] : ['HGETALL', 'SWARM.SNAPSHOT', 'SWARM.SNAPSHOT']);
      }
      spy.reset();
      const latest = await saver.getTuple({ configurable: { thread_id: 'rt', checkpoint_ns: '' } });
      expect(latest?.checkpoint.id).toBe(ids[3]);
      expect(latest?.parentConfig?.configurable?.['checkpoint_id']).toBe(ids[2]);
      expect(latest?.pendingWrites).toEqual([['task', 'n', 9]]);
      expect(roundTrips(spy.log)).toBe(1);
      // The parent's id came from the cached index: no older version was rebuilt.
      expect(spy.log.some((l) => l.args.includes('VERSION'))).toBe(false);
    });

    test('a reader polling the latest checkpoint learns the parents from the heads it read', async () => {
      const writer = new SwarmSaver(opened.client as never, { prefix });
      const spy = spyOn(opened.client);
      const reader = new SwarmSaver(spy.transport, { prefix });
      let config: RunnableConfig = { configurable: { thread_id: 'poll', checkpoint_ns: '' } };
      let ids: string[] = [];
      const put = async (i: number) => {
        const cp = checkpoint({ n: i }, { n: i + 1 });
        config = await writer.put(config, cp, meta(i), { n: i + 1 });
        ids.push(cp.id);
      };
      const latest = async () => (await reader.getTuple({ configurable: { thread_id: 'poll', checkpoint_ns: '' } }))!;
      const parentOf = (t: Awaited<ReturnType<typeof latest>>) => t.parentConfig?.configurable?.['checkpoint_id'];
      for (let i = 0; i < 3; i++) await put(i);
      let t = await latest();
      expect([t.checkpoint.id, parentOf(t)]).toEqual([ids[2], ids[1]]);
      // The same head again: one round trip, nothing rebuilt.
      spy.reset();
      t = await latest();
      expect([t.checkpoint.id, parentOf(t)]).toEqual([ids[2], ids[1]]);
      expect(roundTrips(spy.log)).toBe(1);
      expect(spy.log.some((l) => l.args.includes('VERSION'))).toBe(false);
      // The head moved on: its writes are read after it, and its parent is the head read before.
      await put(3);
      spy.reset();
      t = await latest();
      expect([t.checkpoint.id, parentOf(t)]).toEqual([ids[3], ids[2]]);
      expect(roundTrips(spy.log)).toBe(2);
      expect(spy.log.some((l) => l.args.includes('VERSION'))).toBe(false);
      // Deleted and written again by the writer: what the reader learnt is dropped.
      await writer.deleteThread('poll');
      config = { configurable: { thread_id: 'poll', checkpoint_ns: '' } };
      ids = [];
      for (let i = 0; i < 4; i++) await put(i + 10);
      t = await latest();
      expect([t.checkpoint.id, parentOf(t)]).toEqual([ids[3], ids[2]]);
      expect(t.checkpoint.channel_values).toEqual({ n: 13 });
      const old = await reader.getTuple({ configurable: { thread_id: 'poll', checkpoint_ns: '', checkpoint_id: ids[1] } });
      expect(parentOf(old!)).toBe(ids[0]);
    });

    test('a saver with a cold cache reads the head once and still appends; a head read by getTuple feeds the next put', async () => {
      const first = new SwarmSaver(opened.client as never, { prefix });
      const messages = (n: number) => Array.from({ length: n }, (_, j) => ({ id: `msg-${j}`, text: `message ${j} `.repeat(20) }));
      const big = Object.fromEntries(Array.from({ length: 50 }, (_, j) => [`f${j}`, { status: 'idle', n: j }]));
      let config: RunnableConfig = { configurable: { thread_id: 'cold', checkpoint_ns: '' } };
      const put = async (saver: SwarmSaver, i: number) => {
        const cp = checkpoint({ messages: messages(i + 1), fields: { ...big, f7: { status: `s${i}`, n: 7 } } }, { messages: i + 1, fields: i + 1 });
        config = await saver.put(config, cp, meta(i), { messages: i + 1, fields: i + 1 });
        return cp;
      };
      for (let i = 0; i < 3; i++) await put(first, i);

      // After a restart: a new saver, nothing cached.
      const spy = spyOn(opened.client);
      const restarted = new SwarmSaver(spy.transport, { prefix });
      const cp3 = await put(restarted, 3);
      expect(roundTrips(spy.log)).toBe(2);
      const edit = spy.log.find((l) => l.args[1] === 'EDIT')!.args[3]!;
      expect(edit).toContain('{"op":"add","path":"/c/v/messages/-","value":{"id":"msg-3"');
      expect(edit).toContain('"path":"/c/v/fields/f7/status"');
      expect(edit.length).toBeLessThan(1000);

      // Another new saver reads the latest (getTuple), then puts from it: the head it read
      // serves the put, which needs no read of its own.
      spy.reset();
      const reader = new SwarmSaver(spy.transport, { prefix });
      const latest = await reader.getTuple({ configurable: { thread_id: 'cold', checkpoint_ns: '' } });
      expect(latest?.checkpoint.id).toBe(cp3.id);
      expect(latest?.checkpoint.channel_values['messages']).toEqual(messages(4));
      spy.reset();
      config = latest!.config;
      const cp4 = await put(reader, 4);
      expect(spy.log.map((l) => l.args[1])).toEqual(['EDIT']);
      expect(spy.log[0]!.args[3]).toContain('{"op":"add","path":"/c/v/messages/-","value":{"id":"msg-4"');
      for (const [saver, cp] of [[first, cp4], [restarted, cp3]] as const) {
        const t = await saver.getTuple({ configurable: { thread_id: 'cold', checkpoint_ns: '', checkpoint_id: cp.id } });
        expect(t?.checkpoint.channel_values).toEqual(cp.channel_values);
      }
    });

    test('two savers taking turns on one thread read a stale head again and carry the right values over', async () => {
      const a = new SwarmSaver(opened.client as never, { prefix });
      const b = new SwarmSaver(opened.client as never, { prefix });
      let config: RunnableConfig = { configurable: { thread_id: 'turns', checkpoint_ns: '' } };
      const written: Checkpoint[] = [];
      for (let i = 0; i < 8; i++) {
        const saver = i % 3 === 0 ? a : b;
        // `keep` changes only every other step: its value is carried over from the parent.
        const versions = { step: i + 1, keep: Math.floor(i / 2) + 1, log: i + 1 };
        const values = { step: i, keep: `k${Math.floor(i / 2)}`, log: Array.from({ length: i + 1 }, (_, j) => j) };
        const cp = checkpoint(values, versions);
        const changed = i % 2 === 0 ? versions : { step: i + 1, log: i + 1 };
        config = await saver.put(config, cp, meta(i), changed);
        written.push(cp);
      }
      expect((await sw.snapshot.info(a.historyKey('turns', ''))).head).toBe(8);
      for (const [i, cp] of written.entries()) {
        for (const saver of [a, b]) {
          const t = await saver.getTuple({ configurable: { thread_id: 'turns', checkpoint_ns: '', checkpoint_id: cp.id } });
          expect(t?.checkpoint.channel_values).toEqual(cp.channel_values);
          expect(t?.parentConfig?.configurable?.['checkpoint_id']).toBe(i === 0 ? undefined : written[i - 1]!.id);
        }
      }
    });

    test('LangChain messages go through the serializer, are appended to, and read back as messages', async () => {
      const { AIMessage, HumanMessage } = await import('@langchain/core/messages');
      const spy = spyOn(opened.client);
      const saver = new SwarmSaver(spy.transport, { prefix });
      let config: RunnableConfig = { configurable: { thread_id: 'lc' } };
      const history = [new HumanMessage('hello'), new AIMessage('hi there'), new HumanMessage({ content: 'again', id: 'h2' })];
      const ids: string[] = [];
      for (let i = 1; i <= history.length; i++) {
        spy.reset();
        const cp = checkpoint({ messages: history.slice(0, i), plain: { n: i } }, { messages: i, plain: i });
        config = await saver.put(config, cp, meta(i), { messages: i, plain: i });
        ids.push(cp.id);
        if (i > 1) expect(spy.log.find((l) => l.args[1] === 'EDIT')!.args[3]).toContain('"path":"/c/v/messages/-"');
      }
      for (const [i, id] of ids.entries()) {
        const t = await new SwarmSaver(opened.client as never, { prefix }).getTuple({ configurable: { thread_id: 'lc', checkpoint_id: id } });
        const read = t?.checkpoint.channel_values['messages'] as unknown[];
        expect(read).toHaveLength(i + 1);
        for (const [j, m] of read.entries()) {
          expect(m).toBeInstanceOf(history[j]!.constructor);
          expect((m as { content: unknown }).content).toBe(history[j]!.content);
        }
        expect(t?.checkpoint.channel_values['plain']).toEqual({ n: i + 1 });
      }
    });

    test('putWrites keeps the first regular write of a task and replaces special ones', async () => {
      const saver = new SwarmSaver(opened.client as never, { prefix });
      const cp = checkpoint({}, {});
      const config = await saver.put({ configurable: { thread_id: 'w', checkpoint_ns: 'sub:1' } }, cp, meta(0), {});
      await saver.putWrites(config, [['a', 1], ['b', 2]], 'task-b');
      await saver.putWrites(config, [['a', 99]], 'task-b');
      await saver.putWrites(config, [['__error__', 'first']], 'task-a');
      await saver.putWrites(config, [['__error__', 'second']], 'task-a');
      const t = await saver.getTuple(config);
      expect(t?.config.configurable?.['checkpoint_ns']).toBe('sub:1');
      expect(t?.pendingWrites).toEqual([
        ['task-a', '__error__', 'second'],
        ['task-b', 'a', 1],
        ['task-b', 'b', 2],
      ]);
    });

    test('deleteThread removes every key of the thread, in every namespace, and nothing else', async () => {
      const saver = new SwarmSaver(opened.client as never, { prefix });
      for (const thread of ['gone', 'kept']) {
        for (const ns of ['', 'child:1']) {
          const c = await saver.put({ configurable: { thread_id: thread, checkpoint_ns: ns } }, checkpoint({ v: 1 }, { v: 1 }), meta(0), { v: 1 });
          await saver.putWrites(c, [['v', 2]], 't');
        }
      }
      const before = await keysOf(sw, prefix);
      await saver.deleteThread('gone');
      const after = await keysOf(sw, prefix);
      expect(after).toEqual(before.filter((k) => !k.startsWith(`${prefix}{gone}`)));
      expect(after.some((k) => k.startsWith(`${prefix}{kept}`))).toBe(true);
      expect(await saver.getTuple({ configurable: { thread_id: 'gone' } })).toBeUndefined();
      const listed = [];
      for await (const t of saver.list({})) listed.push(t.config.configurable?.['thread_id']);
      expect(listed).toEqual(['kept', 'kept']);
      // The thread can start again after its deletion.
      await saver.put({ configurable: { thread_id: 'gone' } }, checkpoint({ v: 3 }, { v: 1 }), meta(0), { v: 1 });
      expect((await saver.getTuple({ configurable: { thread_id: 'gone' } }))?.checkpoint.channel_values).toEqual({ v: 3 });
    });
  });
}
