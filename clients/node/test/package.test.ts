/**
 * The package as a user gets it: `npm pack` (of the built package), installed from the
 * tarball into an empty project in a temporary directory outside the repository, then an
 * ES module script, a CommonJS script (both against a real server, through node-redis 5
 * and ioredis) and `tsc --strict` over an .mts and a .cts file importing it, and over the
 * JavaScript of examples/node (checkJs).
 * The drivers and TypeScript are linked from this package's own dev dependencies, so the
 * install needs no registry.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { repoRoot, startServer, type Server } from './harness.js';

const pkg = path.join(repoRoot, 'clients/node');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
let server: Server;
let work: string;
let project: string;

function run(cmd: string, args: string[], cwd: string): string {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    throw new Error(`${cmd} ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

before(async () => {
  server = await startServer();
  work = mkdtempSync(path.join(tmpdir(), 'swarm-node-pack-'));
  project = path.join(work, 'app');
  mkdirSync(project);
  // dist/ is built by the test command; --ignore-scripts keeps pack from building again.
  run(npm, ['pack', '--ignore-scripts', '--silent', '--pack-destination', work], pkg);
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
  assert.ok(tarball, 'npm pack wrote a tarball');
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'app', private: true }));
  run(npm, ['install', '--offline', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error',
    path.join(work, tarball)], project);
  for (const dep of ['redis', 'ioredis', 'typescript', '@types/node']) {
    mkdirSync(path.dirname(path.join(project, 'node_modules', dep)), { recursive: true });
    symlinkSync(path.join(pkg, 'node_modules', dep), path.join(project, 'node_modules', dep), 'dir');
  }
});
after(async () => {
  await server?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

it('the tarball holds the ESM and CommonJS builds and no tests', () => {
  const files = readdirSync(path.join(project, 'node_modules/swarm-redis/dist'));
  assert.ok(files.includes('index.js') && files.includes('index.d.ts') && files.includes('ioredis.js'));
  const cjs = readdirSync(path.join(project, 'node_modules/swarm-redis/dist/cjs'));
  assert.ok(cjs.includes('index.js') && cjs.includes('index.d.ts') && cjs.includes('package.json'));
  assert.ok(!readdirSync(path.join(project, 'node_modules/swarm-redis')).includes('test'));
});

it('an ES module script imports it and runs against a server', () => {
  writeFileSync(path.join(project, 'esm.mjs'), `
import { createClient } from 'redis';
import { Redis } from 'ioredis';
import { Swarm, swarm, NoSwarmError } from 'swarm-redis';
import 'swarm-redis/ioredis';
const url = process.argv[2];
const client = await createClient({ url, modules: { swarm } }).connect();
await client.swarm.routeAdd('pk:esm', 'a.>', 'stream:pk:esm:s');
const r = await client.swarm.publish('pk:esm', 'a.b', { esm: true });
const sw = new Swarm(client);
const io = new Redis(url);
let typed = false;
try { await sw.publish('pk:none', 'a.b', {}); } catch (e) { typed = e instanceof NoSwarmError; }
console.log(JSON.stringify({ id: r.id, published: (await sw.route.stats('pk:esm')).published,
  io: (await io.swarm.routeStats('pk:esm')).published, typed }));
await client.close();
io.disconnect();
`);
  const out = JSON.parse(run(process.execPath, ['esm.mjs', server.url], project));
  assert.match(out.id, /^\d+-\d+$/);
  assert.deepEqual([out.published, out.io, out.typed], [1, 1, true]);
});

it('a CommonJS script requires it and runs against a server', () => {
  writeFileSync(path.join(project, 'cjs.cjs'), `
const { createClient } = require('redis');
const { Redis } = require('ioredis');
const { Swarm, swarm, ConflictError } = require('swarm-redis');
require('swarm-redis/ioredis');
(async () => {
  const url = process.argv[2];
  const client = await createClient({ url, modules: { swarm } }).connect();
  const sw = new Swarm(client);
  const v = await client.swarm.snapshotSave('pk:cjs', { cjs: true });
  let typed = false;
  try { await sw.snapshot.save('pk:cjs', {}, { ifVersion: 0 }); } catch (e) { typed = e instanceof ConflictError; }
  const io = new Redis(url);
  const doc = await io.swarm.snapshotGet('pk:cjs');
  console.log(JSON.stringify({ v, typed, doc }));
  await client.close();
  io.disconnect();
})();
`);
  const out = JSON.parse(run(process.execPath, ['cjs.cjs', server.url], project));
  assert.deepEqual(out, { v: 1, typed: true, doc: { cjs: true } });
});

it('tsc --strict type-checks ESM and CommonJS code using it, and the examples', () => {
  const body = `
const client = createClient({ modules: { swarm } });
export async function use(sw: Swarm, io: Redis): Promise<string> {
  const r: PublishResult = await sw.publish('k', 't', { a: 1 });
  const id: string = r.id;
  const dup: boolean = (await client.swarm.publish('k', 't', {})).duplicate;
  const s = await io.swarm.routeStats('k');
  io.pipeline().swarm.publish('k', 't', {}).swarm.routeStats('k');
  await sw.snapshot.edit('k', [{ op: 'incr', path: '/n', value: 1 }]);
  // @ts-expect-error: not an op
  await sw.snapshot.edit('k', [{ op: 'replase', path: '/n', value: 1 }]);
  const sub = await sw.subscribe<{ n: number }>('k');
  for await (const m of sub) { const n: number = m.payload.n; void n; }
  const c = sw.consumer<{ i: number }>({ stream: 's', group: 'g', consumer: 'c', blockMs: 0 });
  for await (const m of c) { const i: number = m.payload.i; void i; }
  try { await sw.snapshot.wait('k', 1, 0, { signal: AbortSignal.timeout(10) }); } catch (e) {
    if (e instanceof SwarmError) { const code: 'ERR' | 'CONFLICT' | string = e.code; void code; }
  }
  return id + String(dup) + String(s.published);
}
`;
  writeFileSync(path.join(project, 'check.mts'), `import { createClient } from 'redis';
import { Redis } from 'ioredis';
import { Swarm, SwarmError, swarm, type PublishResult } from 'swarm-redis';
import 'swarm-redis/ioredis';
${body}`);
  writeFileSync(path.join(project, 'check.cts'), `import { createClient } from 'redis';
import { Redis } from 'ioredis';
import { Swarm, SwarmError, swarm, type PublishResult } from 'swarm-redis';
import 'swarm-redis/ioredis';
${body}`);
  const examples = readdirSync(path.join(repoRoot, 'examples/node')).filter((f) => f.endsWith('.mjs'));
  for (const f of examples) copyFileSync(path.join(repoRoot, 'examples/node', f), path.join(project, f));
  const tsc = createRequire(path.join(project, 'package.json')).resolve('typescript/bin/tsc');
  run(process.execPath, [tsc, '--strict', '--noEmit', '--skipLibCheck', '--module', 'nodenext',
    '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', '--allowJs', '--checkJs',
    'check.mts', 'check.cts', ...examples], project);
});
