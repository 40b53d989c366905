// Memory and latency of a thread of 1,000 LangGraph checkpoints, side by side:
//   SwarmSaver      (swarm-langgraph: one swarm-snp history per thread, EDIT of what changed)
//   StringKeySaver  (stringkey-saver.mjs: every checkpoint whole in its own string key)
//   MemorySaver     (LangGraph's in-process saver: every checkpoint whole, serialized)
// The state is about 20 KB: 100 records of about 180 B in a `fields` channel and a
// `messages` channel; each step changes a few scattered fields and adds one message (about
// 1 % of the state). MODE=window (default) drops the oldest message as it adds one, so the
// state stays about 20 KB; MODE=append keeps every message, as LangGraph's messages reducer
// does, so the state grows by one message per step.
//
//   cd bench/langgraph && npm ci && SWARM_MODULE=../../build/swarm.so node --expose-gc bench.mjs
// Env: STEPS (1000), MODE (window|append), READS (1000), PASSES (3 reads of every checkpoint),
// SEED (7), OPCOST (16384: the second SwarmSaver row), ONLY (comma-separated name prefixes),
// SHOW_KEYS (print each key's MEMORY USAGE), REDIS_SERVER.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from 'redis';
import { MemorySaver, uuid6 } from '@langchain/langgraph-checkpoint';
import { SwarmSaver } from 'swarm-langgraph';
import { StringKeySaver } from './stringkey-saver.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const STEPS = Number(process.env.STEPS ?? 1000);
const READS = Number(process.env.READS ?? 1000);
const MODE = process.env.MODE ?? 'window';
const OPCOST = Number(process.env.OPCOST ?? 16384);
const PASSES = Number(process.env.PASSES ?? 3);
const modulePath = path.resolve(process.env.SWARM_MODULE ?? path.join(here, '../../build/swarm.so'));
const redisServer = process.env.REDIS_SERVER ?? 'redis-server';
if (typeof global.gc !== 'function') throw new Error('run with node --expose-gc');

// mulberry32: every bit of it is usable (the low bits of a power-of-two LCG repeat with a
// short period, which made the message texts one word repeated).
let seed = Number(process.env.SEED ?? 7) >>> 0;
const rnd = (n) => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (((t ^ (t >>> 14)) >>> 0) % n);
};
const words = 'agent plan tool call result memory graph node edge state route task queue claim done retry'.split(' ');
const text = (len) => {
  let s = '';
  while (s.length < len) s += words[rnd(words.length)] + ' ';
  return s.slice(0, len);
};
const message = (i) => ({ id: `msg-${i}`, role: i % 2 ? 'assistant' : 'user', content: text(110) });

// ---- The workload: 1,000 checkpoints as a LangGraph loop would put them ----

function workload() {
  const fields = {};
  for (let i = 0; i < 100; i++) {
    const k = `f${String(i).padStart(3, '0')}`;
    fields[k] = { status: 'idle', owner: `agent-${rnd(10)}`, score: rnd(1000), attempts: 0, note: text(90) };
  }
  let messages = Array.from({ length: 10 }, (_, i) => message(i));
  const steps = [];
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  let changed = 0;
  for (let i = 0; i < STEPS; i++) {
    let delta = 0;
    if (i > 0) {
      const next = { ...fields };
      for (let j = 0; j < 3; j++) {
        const k = `f${String(rnd(100)).padStart(3, '0')}`;
        const status = ['idle', 'busy', 'done', 'failed'][rnd(4)];
        next[k] = { ...next[k], status, score: rnd(1000), attempts: next[k].attempts + 1 };
        delta += JSON.stringify(status).length + String(next[k].score).length + String(next[k].attempts).length;
      }
      Object.assign(fields, next);
      const m = message(10 + i);
      messages = MODE === 'append' ? [...messages, m] : [...messages.slice(1), m];
      delta += JSON.stringify(m).length;
    }
    changed += delta;
    const v = i + 1;
    steps.push({
      checkpoint: {
        v: 4,
        id: uuid6(-3),
        ts: new Date(t0 + i * 1000).toISOString(),
        channel_values: { task: 'triage the incident queue', fields: structuredClone(fields), messages: [...messages] },
        channel_versions: { __start__: 1, task: 1, fields: v, messages: v, 'branch:to:agent': v },
        versions_seen: { __input__: {}, __start__: { __start__: 1 }, agent: { fields: v - 1, messages: v - 1, 'branch:to:agent': v - 1 } },
      },
      metadata: { source: i === 0 ? 'input' : 'loop', step: i - 1, parents: {} },
      newVersions: i === 0 ? { __start__: 1, task: 1, fields: 1, messages: 1, 'branch:to:agent': 1 } : { fields: v, messages: v, 'branch:to:agent': v },
    });
  }
  const first = JSON.stringify(steps[0].checkpoint.channel_values).length;
  const last = JSON.stringify(steps.at(-1).checkpoint.channel_values).length;
  return { steps, first, last, changed };
}

// ---- A server of our own ----

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startServer() {
  const dir = mkdtempSync(path.join(tmpdir(), 'swarm-lg-bench-'));
  const port = await freePort();
  const proc = spawn(redisServer, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--dir', dir, '--loadmodule', modulePath], { stdio: 'ignore' });
  const client = createClient({ url: `redis://127.0.0.1:${port}` });
  client.on('error', () => {});
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await client.connect();
      break;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    client,
    async stop() {
      await client.close();
      const gone = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await gone;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- Measuring ----

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

// Server time per call of each command, from INFO commandstats: "edit 85us x999, ...".
function commandStats(info) {
  const out = [];
  for (const m of info.matchAll(/cmdstat_([^:]+):calls=(\d+),usec=\d+,usec_per_call=([\d.]+)/g)) {
    if (m[1] !== 'config|resetstat' && m[1] !== 'info') out.push(`${m[1]} ${Math.round(Number(m[3]))}us x${m[2]}`);
  }
  return out.join(', ');
}

async function usedMemory(client) {
  const info = await client.sendCommand(['INFO', 'memory']);
  return Number(/used_memory:(\d+)/.exec(info)[1]);
}

async function keysMemory(client) {
  let total = 0;
  let keys = 0;
  let cursor = '0';
  do {
    const [next, batch] = await client.sendCommand(['SCAN', cursor, 'COUNT', '1000']);
    cursor = String(next);
    for (const k of batch) {
      const bytes = Number(await client.sendCommand(['MEMORY', 'USAGE', k, 'SAMPLES', '0']));
      if (process.env.SHOW_KEYS) console.log(`  key ${k}: ${bytes} B`);
      total += bytes;
      keys++;
    }
  } while (cursor !== '0');
  return { total, keys };
}

function heap() {
  global.gc();
  global.gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

// Reads go through `reader`: a new instance of the same saver (nothing cached from the
// puts), except for MemorySaver, whose state is the instance.
async function run(name, saver, steps, client, reader = saver) {
  // Warm up (JIT, connections) on another thread, then drop it.
  let cfg = { configurable: { thread_id: 'warmup', checkpoint_ns: '' } };
  for (const s of steps.slice(0, 100)) cfg = await saver.put(cfg, { ...s.checkpoint, id: uuid6(-3) }, s.metadata, s.newVersions);
  for (let i = 0; i < 100; i++) await saver.getTuple({ configurable: { thread_id: 'warmup', checkpoint_ns: '' } });
  await saver.deleteThread('warmup');
  if (client) await client.sendCommand(['FLUSHALL']);
  const used0 = client ? await usedMemory(client) : 0;
  const heap0 = heap();

  if (client) await client.sendCommand(['CONFIG', 'RESETSTAT']);
  const put = [];
  cfg = { configurable: { thread_id: 'bench', checkpoint_ns: '' } };
  for (const s of steps) {
    const t0 = process.hrtime.bigint();
    cfg = await saver.put(cfg, s.checkpoint, s.metadata, s.newVersions);
    put.push(ms(t0));
  }
  const server = client ? commandStats(await client.sendCommand(['INFO', 'commandstats'])) : '';
  if (client) await client.sendCommand(['CONFIG', 'RESETSTAT']);
  const heapAfter = heap();
  const mem = client ? await keysMemory(client) : { total: heapAfter - heap0, keys: 0 };
  const used = client ? (await usedMemory(client)) - used0 : heapAfter - heap0;

  const get = [];
  const ids = steps.map((s) => s.checkpoint.id);
  let check = 0;
  for (let i = 0; i < READS; i++) {
    const j = rnd(ids.length);
    const t0 = process.hrtime.bigint();
    const t = await reader.getTuple({ configurable: { thread_id: 'bench', checkpoint_ns: '', checkpoint_id: ids[j] } });
    get.push(ms(t0));
    if (t.checkpoint.id !== ids[j] || t.checkpoint.channel_values.messages.at(-1).id !== steps[j].checkpoint.channel_values.messages.at(-1).id) {
      throw new Error(`${name}: getTuple of checkpoint ${j} returned the wrong state`);
    }
    check++;
  }
  // Every checkpoint, PASSES times, each pass in a new random order (so swarm's cache of
  // rebuilt versions does not serve a repeat): the slowest checkpoint's median is the
  // latency of reading it, without the one-off pauses of a single sample.
  const per = ids.map(() => []);
  for (let p = 0; p < PASSES; p++) {
    const order = ids.map((_, j) => j);
    for (let j = order.length - 1; j > 0; j--) {
      const k = rnd(j + 1);
      [order[j], order[k]] = [order[k], order[j]];
    }
    for (const j of order) {
      const t0 = process.hrtime.bigint();
      const t = await reader.getTuple({ configurable: { thread_id: 'bench', checkpoint_ns: '', checkpoint_id: ids[j] } });
      per[j].push(ms(t0));
      if (t.checkpoint.id !== ids[j]) throw new Error(`${name}: getTuple of checkpoint ${j} returned the wrong checkpoint`);
    }
  }
  const medians = per.map((xs) => pct(xs, 50));
  const worst = medians.reduce((w, m, j) => (m > medians[w] ? j : w), 0);
  const latest = [];
  for (let i = 0; i < 200; i++) {
    const t0 = process.hrtime.bigint();
    await reader.getTuple({ configurable: { thread_id: 'bench', checkpoint_ns: '' } });
    latest.push(ms(t0));
  }
  const serverGet = client ? commandStats(await client.sendCommand(['INFO', 'commandstats'])) : '';
  return { name, mem: mem.total, keys: mem.keys, used, put, get, latest, check, server, serverGet, worst, worstMs: medians[worst] };
}

const { steps, first, last, changed } = workload();
const floor = first + changed;
console.error(`mode ${MODE}: ${STEPS} checkpoints, state ${first} B at the first, ${last} B at the last; ` +
  `changed ${changed} B in all (${(changed / Math.max(1, STEPS - 1)).toFixed(0)} B a step); floor ${floor} B`);

const server = await startServer();
const results = [];
try {
  const only = process.env.ONLY ? process.env.ONLY.split(',') : null;
  const savers = [
    ['SwarmSaver', () => new SwarmSaver(server.client, { prefix: 'lg:' }), server.client, true],
    [`SwarmSaver, opCost ${OPCOST} (fewer, larger ops)`, () => new SwarmSaver(server.client, { prefix: 'lg16:', opCost: OPCOST }), server.client, true],
    ['StringKeySaver', () => new StringKeySaver(server.client), server.client, true],
    ['MemorySaver', () => new MemorySaver(), null, false],
  ];
  for (const [name, make, client, freshReader] of savers) {
    if (only && !only.some((o) => name.startsWith(o))) continue;
    const saver = make();
    results.push(await run(name, saver, steps, client, freshReader ? make() : saver));
  }
} finally {
  await server.stop();
}

const f = (x) => x.toFixed(3);
const kb = (b) => `${(b / 1024).toFixed(0)} KB`;
console.log(`\n| ${MODE}, ${STEPS} checkpoints | memory | x floor | put p50 | put p99 | getTuple(id) p50 | p99 | max | slowest checkpoint | getTuple(latest) p50 | p99 |`);
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of results) {
  console.log(`| ${r.name} | ${kb(r.mem)}${r.name === 'MemorySaver' ? ' (heap)' : ` (used_memory +${kb(r.used)})`} | ${(r.mem / floor).toFixed(2)} | ` +
    `${f(pct(r.put, 50))} | ${f(pct(r.put, 99))} | ${f(pct(r.get, 50))} | ${f(pct(r.get, 99))} | ${f(Math.max(...r.get))} | ` +
    `${f(r.worstMs)} (#${r.worst + 1}) | ` +
    `${f(pct(r.latest, 50))} | ${f(pct(r.latest, 99))} |`);
}
for (const r of results) if (r.server) console.log(`${r.name}: server time per call, puts: ${r.server}; reads: ${r.serverGet}`);
console.log(`\nfloor (first state + changed bytes): ${kb(floor)}; latencies in ms; ${READS} getTuple by random id, each checked; slowest checkpoint: the largest median over ${PASSES} reads of each checkpoint`);
const sw = results[0];
const sk = results.find((r) => r.name === 'StringKeySaver') ?? sw;
console.log(JSON.stringify({
  mode: MODE, steps: STEPS, floor, first, last, changed,
  swarmOverFloor: +(sw.mem / floor).toFixed(3),
  swarmOverStringKeys: +(sw.mem / sk.mem).toFixed(4),
  putP50Ratio: +(pct(sw.put, 50) / pct(sk.put, 50)).toFixed(3),
  putP99Ratio: +(pct(sw.put, 99) / pct(sk.put, 99)).toFixed(3),
  getMaxMs: +Math.max(...sw.get).toFixed(3),
  slowestCheckpointMs: +sw.worstMs.toFixed(3),
}));
