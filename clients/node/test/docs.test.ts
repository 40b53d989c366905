/** Runs the JavaScript snippets of docs/getting-started.md against a real server: they must
 * exit on their own, successfully, and print what the text says. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, it } from 'node:test';
import { repoRoot, startServer, type Server } from './harness.js';

const doc = readFileSync(path.join(repoRoot, 'docs/getting-started.md'), 'utf8');
const snippets = [...doc.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);
// Inside the package directory, so `import 'swarm-redis'` resolves to this package.
const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'snippets');

let server: Server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

function run(file: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [file]);
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), 30000);
    p.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

it('getting-started has the node-redis and ioredis snippets', () => {
  assert.equal(snippets.length, 2);
});

const expected = [
  [/^true task\.done coder-1 \{ task: 't-17', ok: true \}$/m, /^audit task\.done/m, /^state 1 \{ step: 1 \}$/m,
    /^denied by rule 3$/m, /^duplicate true true$/m, /^answer 5 from adder-1$/m],
  [/^replicas acknowledged: 0$/m, /^head is 2, expected 1$/m],
];

snippets.forEach((code, i) => {
  it(`snippet ${i + 1} runs and exits`, async () => {
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `snippet-${i + 1}.mjs`);
    writeFileSync(file, code.replaceAll('127.0.0.1:6379', `127.0.0.1:${server.port}`));
    const r = await run(file);
    assert.equal(r.code, 0, r.out);
    for (const re of expected[i] ?? []) assert.match(r.out, re);
  });
});
