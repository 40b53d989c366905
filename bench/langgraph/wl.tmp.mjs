import { uuid6 } from '@langchain/langgraph-checkpoint';
const STEPS = Number(process.env.STEPS ?? 1000);
const MODE = process.env.MODE ?? 'window';
let seed = Number(process.env.SEED ?? 7);
const rnd = (n) => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed % n;
};
const words = 'agent plan tool call result memory graph node edge state route task queue claim done retry'.split(' ');
const text = (len) => {
  let s = '';
  while (s.length < len) s += words[rnd(words.length)] + ' ';
  return s.slice(0, len);
};
const message = (i) => ({ id: `msg-${i}`, role: i % 2 ? 'assistant' : 'user', content: text(110) });

// ---- The workload: 1,000 checkpoints as a LangGraph loop would put them ----

export function workload() {
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

