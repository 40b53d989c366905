import { createClient } from 'redis';
const c = await createClient({ url: 'redis://127.0.0.1:6391' }).connect();
const key = process.argv[2]; const n = Number(process.argv[3]);
for (let v = 1; v <= n; v++) console.log(await c.sendCommand(['SWARM.SNAPSHOT', 'GET', key, 'VERSION', String(v)]));
await c.close();
