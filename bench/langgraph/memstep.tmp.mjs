import { createClient } from 'redis';
import { SwarmSaver } from 'swarm-langgraph';
const c = await createClient({ url: 'redis://127.0.0.1:6391' }).connect();
await c.sendCommand(['FLUSHALL']);
process.env.STEPS = '400';
const mod = await import(process.cwd() + '/wl.tmp.mjs');
const { steps } = mod.workload();
const s = new SwarmSaver(c, { prefix: 'm:', opCost: Number(process.env.OPC ?? 16384) });
let cfg = { configurable: { thread_id: 't', checkpoint_ns: '' } };
let prev = 0; const jumps = [];
for (let i = 0; i < steps.length; i++) {
  cfg = await s.put(cfg, steps[i].checkpoint, steps[i].metadata, steps[i].newVersions);
  const mu = Number(await c.sendCommand(['MEMORY', 'USAGE', s.historyKey('t', ''), 'SAMPLES', '0']));
  if (i > 0 && mu - prev > 5000) jumps.push([i, mu - prev]);
  if (i % 50 === 0) console.log(i, mu, (mu - prev));
  prev = mu;
}
const info = await c.sendCommand(['SWARM.SNAPSHOT', 'INFO', s.historyKey('t', '')]);
console.log(info.join(' '), 'jumps', JSON.stringify(jumps));
const v1 = await c.sendCommand(['SWARM.SNAPSHOT', 'GET', s.historyKey('t', ''), 'VERSION', '200']);
const v2 = await c.sendCommand(['SWARM.SNAPSHOT', 'GET', s.historyKey('t', ''), 'VERSION', '201']);
(await import('fs')).writeFileSync('/tmp/v200.json', v1); (await import('fs')).writeFileSync('/tmp/v201.json', v2);
await c.close();
