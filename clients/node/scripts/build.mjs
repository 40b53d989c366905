// Builds the package: ESM into dist/ (with type declarations), CommonJS into dist/cjs/
// (a package.json there marks its .js files as CommonJS for Node and TypeScript).
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  console.error(`swarm-redis: building needs its dev dependencies: run \`npm ci\` in ${root} first
(or install the tarball \`npm pack\` makes there, which is built)`);
  process.exit(1);
}
rmSync(path.join(root, 'dist'), { recursive: true, force: true });
// The two compilations are independent: run them side by side.
const builds = ['tsconfig.json', 'tsconfig.cjs.json'].map(
  (project) =>
    new Promise((resolve) => {
      spawn(process.execPath, [tsc, '-p', path.join(root, project)], { stdio: 'inherit' }).on('exit', resolve);
    }),
);
if ((await Promise.all(builds)).some((code) => code !== 0)) process.exit(1);
mkdirSync(path.join(root, 'dist/cjs'), { recursive: true });
writeFileSync(path.join(root, 'dist/cjs/package.json'), '{ "type": "commonjs" }\n');
