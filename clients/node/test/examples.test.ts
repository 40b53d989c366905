/**
 * Runs examples/node (coordinator, researcher, two stream workers) against a real server and
 * checks the final state: every task done once by the right worker, nothing pending, nothing
 * dead-lettered.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, it } from 'node:test';
import { CLIENTS, openSwarm, repoRoot, startServer, type Server } from './harness.js';

const dir = path.join(repoRoot, 'examples/node');
let server: Server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

it('every example file is under 80 lines', () => {
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.mjs'))) {
    assert.ok(readFileSync(path.join(dir, f), 'utf8').split('\n').length - 1 < 80, f);
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
      assert.equal(await sw.call('XLEN', `${demo}:${kind}`), 3);
    }
    assert.equal(await sw.call('EXISTS', `${demo}:dead`), 0);
    const stats = await sw.route.stats(`${demo}:swarm`);
    assert.deepEqual([stats.published, stats.deadlettered], [10, 0]);
  } finally {
    await close();
  }
});
