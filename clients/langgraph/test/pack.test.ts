/**
 * Installs the package the way a user would: `npm pack` into a tarball, `npm install` of
 * that tarball into an empty project in a fresh temporary directory outside the repository,
 * then a script there imports swarm-langgraph and writes and reads a checkpoint.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { inject } from 'vitest';
import { repoRoot } from './server.js';

const run = promisify(execFile);
const port = inject('redisPort');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

test('the npm pack tarball installs into an empty project and works there', { timeout: 180_000 }, async () => {
  const pkgDir = path.join(repoRoot, 'clients/langgraph');
  const packDir = mkdtempSync(path.join(tmpdir(), 'swarm-langgraph-pack-'));
  const project = mkdtempSync(path.join(tmpdir(), 'swarm-langgraph-user-'));
  try {
    expect(path.relative(repoRoot, project).startsWith('..')).toBe(true);
    const { stdout } = await run(npm, ['pack', '--silent', '--pack-destination', packDir], { cwd: pkgDir });
    const tarball = path.join(packDir, stdout.trim().split('\n').at(-1)!);
    await run(npm, ['init', '-y'], { cwd: project });
    await run(npm, ['pkg', 'set', 'type=module'], { cwd: project });
    await run(
      npm,
      ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', tarball, 'redis@^5', '@langchain/core@^1'],
      { cwd: project, timeout: 150_000 },
    );
    writeFileSync(
      path.join(project, 'check.js'),
      `import { createClient } from 'redis';
import { emptyCheckpoint } from '@langchain/langgraph-checkpoint';
import { SwarmSaver } from 'swarm-langgraph';
const client = await createClient({ url: process.env.REDIS_URL }).connect();
const saver = new SwarmSaver(client, { prefix: 'pack:' + process.pid + ':' });
const cp = { ...emptyCheckpoint(), channel_values: { greeting: 'hi' }, channel_versions: { greeting: 1 } };
const config = await saver.put({ configurable: { thread_id: 'p' } }, cp, { source: 'input', step: -1, parents: {} }, { greeting: 1 });
const t = await saver.getTuple(config);
console.log(JSON.stringify({ id: t.checkpoint.id === cp.id, values: t.checkpoint.channel_values }));
await saver.deleteThread('p');
await client.close();
`,
    );
    const out = await run(process.execPath, ['check.js'], {
      cwd: project,
      env: { ...process.env, REDIS_URL: `redis://127.0.0.1:${port}` },
    });
    expect(JSON.parse(out.stdout)).toEqual({ id: true, values: { greeting: 'hi' } });
  } finally {
    rmSync(packDir, { recursive: true, force: true });
    rmSync(project, { recursive: true, force: true });
  }
});
