/**
 * Runs examples/node (coordinator, researcher, two stream workers) against a real server and
 * checks the final state: every task done once by the right worker, the researcher's answer
 * to the coordinator's request, nothing pending, nothing dead-lettered. The examples run from a copy in a temporary directory whose node_modules
 * links to this package and to its own dev dependencies, so this needs no install in
 * examples/node. (package.test.ts type-checks them with tsc --strict against the packed
 * package.)
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { CLIENTS, openSwarm, repoRoot, startServer, type Server } from './harness.js';

const source = path.join(repoRoot, 'examples/node');
const pkg = path.join(repoRoot, 'clients/node');
let dir: string;
let server: Server;
before(async () => {
  server = await startServer();
  dir = mkdtempSync(path.join(tmpdir(), 'swarm-node-examples-'));
  for (const f of readdirSync(source).filter((f) => f.endsWith('.mjs'))) {
    copyFileSync(path.join(source, f), path.join(dir, f));
  }
  mkdirSync(path.join(dir, 'node_modules'), { recursive: true });
  symlinkSync(pkg, path.join(dir, 'node_modules/swarm-redis'), 'dir');
  symlinkSync(path.join(pkg, 'node_modules/redis'), path.join(dir, 'node_modules/redis'), 'dir');
});
after(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('every example file is under 80 lines', () => {
  for (const f of readdirSync(source).filter((f) => f.endsWith('.mjs'))) {
    assert.ok(readFileSync(path.join(source, f), 'utf8').split('\n').length - 1 < 80, f);
  }
});

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, args, { cwd: dir, env });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), 60000);
    p.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

it('coordinator and three workers finish with the right state', async () => {
  const demo = `demo${Math.random().toString(36).slice(2, 8)}`;
  const env = { ...process.env, REDIS_URL: server.url, SWARM_DEMO: demo };
  const results = await Promise.all([
    run(['researcher.mjs'], env),
    run(['stream-worker.mjs', 'coder', 'code'], env),
    run(['stream-worker.mjs', 'reviewer', 'review'], env),
    run(['coordinator.mjs'], env),
  ]);
  for (const r of results) assert.equal(r.code, 0, r.out);
  assert.match(results[3]!.out, /coordinator: 9 tasks done/);
  assert.match(results[3]!.out, /coordinator: researcher says \{ researched: 3 \}/);

  const { sw, close } = await openSwarm(CLIENTS[0]!, server.port);
  try {
    const { doc } = await sw.state<{ total: number; ready: string[]; done: Record<string, string> }>(`${demo}:progress`).get();
    assert.equal(doc!.total, 9);
    assert.deepEqual([...doc!.ready].sort(), ['coder', 'researcher', 'reviewer']);
    const want: Record<string, string> = {};
    for (const [kind, worker] of [['research', 'researcher'], ['code', 'coder'], ['review', 'reviewer']]) {
      for (const n of [1, 2, 3]) want[`${kind}-${n}`] = worker!;
    }
    assert.deepEqual(doc!.done, want);
    for (const kind of ['code', 'review']) {
      assert.equal(await sw.consumer({ stream: `${demo}:${kind}`, group: `${kind}rs`, consumer: 'check' }).pending(), 0);
      // Three tasks and the stop message.
      assert.equal(await sw.call('XLEN', `${demo}:${kind}`), 4);
    }
    assert.equal(await sw.call('EXISTS', `${demo}:dead`), 0);
    const stats = await sw.route.stats(`${demo}:swarm`);
    // Nine tasks, the question and the stop message.
    assert.deepEqual([stats.published, stats.deadlettered], [11, 0]);
  } finally {
    await close();
  }
});
