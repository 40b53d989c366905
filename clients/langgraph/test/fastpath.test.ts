/**
 * The saver's fast paths, without a server: diffs found on JSON texts (textdiff.ts), member
 * splits guided by a previous split (jsontext.ts), and plain JSON written and read without
 * the serializer's replacer and reviver (plainjson.ts), each checked against the slow way.
 */
import { JsonPlusSerializer, type SerializerProtocol } from '@langchain/langgraph-checkpoint';
import { HumanMessage } from '@langchain/core/messages';
import { applyJsonPatch, jsonEqual, jsonPatchDiff, type Json, type JsonPatchOp } from '../src/index.js';
import { members } from '../src/jsontext.js';
import { PlainJson } from '../src/plainjson.js';
import { diffText, type TextOp } from '../src/textdiff.js';

// A seeded generator of JSON values and of mutations of them.
let seed = 4242;
const rnd = (n: number) => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed % n;
};
const gen = (depth: number): Json => {
  const k = rnd(depth > 2 ? 4 : 7);
  if (k === 0) return null;
  if (k === 1) return rnd(2) === 1;
  if (k === 2) return rnd(1000) - 500;
  if (k === 3) return ['a', 'b/c', 'd~e', '', 'q"u\\o', '\u00e9'][rnd(6)]!;
  if (k === 4 || k === 5) return Array.from({ length: rnd(5) }, () => gen(depth + 1));
  return Object.fromEntries(Array.from({ length: rnd(5) }, () => [['x', 'y', 'a/b', 'm~n', '', 'q"'][rnd(6)]!, gen(depth + 1)]));
};
const mutate = (v: Json, depth: number): Json => {
  if (rnd(4) === 0 || depth > 3) return gen(depth);
  if (Array.isArray(v)) {
    const a = v.map((x) => (rnd(3) === 0 ? mutate(x, depth + 1) : x));
    const op = rnd(5);
    if (op === 0) a.push(gen(depth + 1));
    if (op === 1 && a.length > 0) a.shift();
    if (op === 2 && a.length > 0) a.splice(rnd(a.length), 1);
    if (op === 3 && a.length > 0) a.push(gen(depth + 1)) && a.shift();
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
const parsedOps = (ops: TextOp[]): JsonPatchOp[] =>
  ops.map((o) => (o.op === 'remove' ? { op: 'remove', path: o.path } : { op: o.op, path: o.path, value: JSON.parse(o.value!) as Json }));

describe('diffText', () => {
  test('turns any JSON text into any other (seeded, 3000 pairs, with and without an opCost)', () => {
    for (let i = 0; i < 3000; i++) {
      const s = seed;
      const a = { root: gen(0) };
      const b = { root: mutate(a.root, 0) };
      for (const opCost of [0, 24]) {
        const ops: TextOp[] = [];
        diffText(JSON.stringify(a), JSON.stringify(b), '', ops, opCost);
        expect(jsonEqual(applyJsonPatch(a, parsedOps(ops)), b), `seed ${s} opCost ${opCost}`).toBe(true);
        // Every value is a slice of the new text, sent as it is.
        for (const o of ops) if (o.value !== undefined) expect(JSON.stringify(b)).toContain(o.value);
      }
    }
  });

  test('a chain of versions diffed with the split each diff returns, as a put does (seeded, 300 chains)', () => {
    for (let i = 0; i < 300; i++) {
      const s = seed;
      let value: Json = Object.fromEntries(Array.from({ length: 1 + rnd(30) }, (_, j) => [`f${j}`, gen(1)]));
      let split: ReturnType<typeof diffText>;
      for (let step = 0; step < 10; step++) {
        const next = mutate(value, 2);
        const ops: TextOp[] = [];
        split = diffText(JSON.stringify(value), JSON.stringify(next), '', ops, 0, split);
        expect(jsonEqual(applyJsonPatch(value, parsedOps(ops)), next), `seed ${s} step ${step}`).toBe(true);
        value = next;
      }
    }
  });

  test('gives the small ops: appends, a slid window, changed members only, nothing for equal texts', () => {
    const diff = (a: unknown, b: unknown, opCost = 0) => {
      const ops: TextOp[] = [];
      diffText(JSON.stringify(a), JSON.stringify(b), '/v', ops, opCost);
      return ops;
    };
    expect(diff({ m: [1, { t: 'x' }] }, { m: [1, { t: 'x' }, { t: 'y' }] })).toEqual([{ op: 'add', path: '/v/m/-', value: '{"t":"y"}' }]);
    expect(diff([1, 2, 3], [2, 3, 4])).toEqual([
      { op: 'remove', path: '/v/0' },
      { op: 'add', path: '/v/-', value: '4' },
    ]);
    expect(diff({ a: { s: 'idle', n: 1 }, 'b/c': 2, d: 3 }, { a: { s: 'busy', n: 1 }, 'b/c': 3, e: 4 })).toEqual([
      { op: 'remove', path: '/v/d' },
      { op: 'replace', path: '/v/a/s', value: '"busy"' },
      { op: 'replace', path: '/v/b~1c', value: '3' },
      { op: 'add', path: '/v/e', value: '4' },
    ]);
    expect(diff({ a: [1, 2] }, { a: [1, 2] })).toEqual([]);
    // With an opCost, two changes in one small object become one replace of it, as diff() does.
    expect(diff({ a: { x: 1, y: 2 } }, { a: { x: 3, y: 4 } }, 1000)).toEqual([{ op: 'replace', path: '/v/a', value: '{"x":3,"y":4}' }]);
    expect(jsonPatchDiff({ a: { x: 1, y: 2 } }, { a: { x: 3, y: 4 } }, '/v', [], 1000)).toEqual([{ op: 'replace', path: '/v/a', value: { x: 3, y: 4 } }]);
    // Texts of one value written differently are descended into, never taken as equal.
    const ops: TextOp[] = [];
    diffText('{"a": 1, "b": [1, 2]}', '{"b":[1,2],"a":1}', '', ops);
    expect(ops).toEqual([]);
  });
});

describe('members guided by a previous split', () => {
  test('splits as an unguided scan does, whatever changed (seeded, 2000 objects)', () => {
    for (let i = 0; i < 2000; i++) {
      const s = seed;
      const a = Object.fromEntries(Array.from({ length: rnd(8) }, (_, j) => [`m${j}`, gen(1)]));
      const b = mutate(a, 1);
      if (b === null || typeof b !== 'object' || Array.isArray(b)) continue;
      const texts = [JSON.stringify(b), JSON.stringify(b, null, 1)];
      for (const text of texts) {
        const guided = members(text, members(JSON.stringify(a)));
        const plain = members(text);
        expect(guided.names, `seed ${s}`).toEqual(plain.names);
        expect(guided.values, `seed ${s}`).toEqual(plain.values);
        expect(guided.starts, `seed ${s}`).toEqual(plain.starts);
        expect(guided.ends, `seed ${s}`).toEqual(plain.ends);
        expect([...guided.index], `seed ${s}`).toEqual([...plain.index]);
      }
    }
  });

  test('runs of unchanged members in large objects, around a few edits (seeded, 1000 objects)', () => {
    for (let i = 0; i < 1000; i++) {
      const s = seed;
      const entries: Array<[string, Json]> = Array.from({ length: 1 + rnd(60) }, (_, j) => [`k${j}`, gen(2)]);
      const edited = entries.map(([k, v]) => [k, v] as [string, Json]);
      for (let e = rnd(4); e > 0; e--) {
        const at = rnd(edited.length + 1);
        const what = rnd(4);
        if (what === 0 && at < edited.length) edited[at] = [edited[at]![0], gen(2)];
        else if (what === 1 && at < edited.length) edited.splice(at, 1);
        else if (what === 2) edited.splice(at, 0, [`new${rnd(5)}`, gen(2)]);
        else if (edited.length > 1) edited.push(edited.shift()!);
      }
      const text = JSON.stringify(Object.fromEntries(edited));
      const guided = members(text, members(JSON.stringify(Object.fromEntries(entries))));
      const plain = members(text);
      expect([guided.names, guided.values, guided.starts, guided.ends], `seed ${s}`).toEqual([plain.names, plain.values, plain.starts, plain.ends]);
      expect([...guided.index], `seed ${s}`).toEqual([...plain.index]);
    }
  });

  test('a member is matched whole, not by a prefix of its value', () => {
    const like = members('{"a":12,"b":"x","c":{"d":1}}');
    const m = members('{"a":123,"b":"x\\"","c":{"d":1},"e":0}', like);
    expect(m.values).toEqual(['123', '"x\\""', '{"d":1}', '0']);
    expect(m.values[2]).toBe(like.values[2]);
  });
});

describe('PlainJson', () => {
  const jp = new JsonPlusSerializer();
  const theirs = async (v: unknown) => {
    const [t, data] = await jp.dumpsTyped(v);
    return t === 'json' ? new TextDecoder().decode(data) : undefined;
  };

  test('writes plain JSON as the serializer does, and leaves everything else to it', async () => {
    const plain = new PlainJson(new JsonPlusSerializer());
    for (let i = 0; i < 500; i++) {
      const v = gen(0);
      expect(await plain.dumps(v)).toBe(await theirs(v));
    }
    expect(await plain.dumps({ n: NaN, i: -Infinity, z: -0, nested: [{ a: null }] })).toBe(await theirs({ n: NaN, i: -Infinity, z: -0, nested: [{ a: null }] }));
    const cycle: Record<string, unknown> = {};
    cycle['self'] = cycle;
    const notPlain: unknown[] = [
      undefined,
      { a: undefined },
      [1, undefined],
      // eslint-disable-next-line no-sparse-arrays
      [1, , 3],
      new Date(0),
      new Map([[1, 2]]),
      new Set([1]),
      new Uint8Array([1]),
      { lg_name: 'Send', node: 'n', args: {} },
      { toJSON: () => 1 },
      Object.create({ inherited: 1 }),
      { f: () => 1 },
      { b: 1n },
      cycle,
      new HumanMessage('hi'),
    ];
    for (const v of notPlain) expect(await plain.dumps(v)).toBeUndefined();
    expect(await plain.dumps(Object.assign(Object.create(null), { a: 1 }))).toBe('{"a":1}');
  });

  test('reads plain JSON as the serializer does, and hands it what its reviver changes', async () => {
    const plain = new PlainJson(new JsonPlusSerializer());
    for (let i = 0; i < 300; i++) {
      const text = JSON.stringify(gen(0));
      expect(await plain.loads(text)).toEqual(await jp.loadsTyped('json', text));
    }
    const message = new TextDecoder().decode((await jp.dumpsTyped([new HumanMessage('hi')]))[1]);
    const read = (await plain.loads(message)) as unknown[];
    expect(read[0]).toBeInstanceOf(HumanMessage);
    const undef = new TextDecoder().decode((await jp.dumpsTyped({ a: undefined, s: new Set([1]) }))[1]);
    expect(await plain.loads(undef)).toEqual({ a: undefined, s: new Set([1]) });
    const proto = '{"__proto__":{"polluted":1}}';
    const ours = (await plain.loads(proto)) as object;
    const reference = (await jp.loadsTyped('json', proto)) as object;
    expect(Object.getPrototypeOf(ours)).toEqual(Object.getPrototypeOf(reference));
    expect((ours as Record<string, unknown>)['polluted']).toBe((reference as Record<string, unknown>)['polluted']);
  });

  test('is off for any serializer but an unmodified JsonPlusSerializer', async () => {
    class Sub extends JsonPlusSerializer {}
    const patched = new JsonPlusSerializer();
    Object.assign(patched, { dumpsTyped: async () => ['json', new TextEncoder().encode('"x"')] });
    const custom: SerializerProtocol = {
      dumpsTyped: async () => ['json', new TextEncoder().encode('1')],
      loadsTyped: async () => 'custom',
    };
    for (const serde of [new Sub(), patched, custom]) {
      const plain = new PlainJson(serde);
      expect(await plain.dumps({ a: 1 })).toBeUndefined();
      expect(plain.parsesRecords).toBe(false);
      expect(await plain.loads('{"a":1}')).toEqual(await serde.loadsTyped('json', '{"a":1}'));
    }
  });
});
