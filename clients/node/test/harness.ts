/**
 * Test harness: a real redis-server with the swarm module on a free 127.0.0.1 port, started
 * per test file and stopped by pid in after() (and on process exit, so a failing or
 * interrupted test leaves no server behind). Also the client matrix every suite runs over.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient as createClient5 } from 'redis';
import { createClient as createClient4 } from 'redis4';
import { Redis } from 'ioredis';
import { Swarm } from '../dist/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../../..');
export const modulePath = process.env['SWARM_MODULE'] ?? path.join(repoRoot, 'build/swarm.so');
export const redisServer = process.env['REDIS_SERVER'] ?? '/usr/bin/redis-server';

function tryListen(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(null));
    s.listen(port, '127.0.0.1', () => {
      const { port: got } = s.address() as net.AddressInfo;
      s.close(() => resolve(got));
    });
  });
}

/**
 * A free loopback port no higher than 55535: a cluster-enabled server also listens on
 * port + 10000, and refuses to start above that.
 */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const port = await tryListen(20000 + Math.floor(Math.random() * 35535));
    if (port !== null) return port;
  }
  throw new Error('no free port at or below 55535');
}

export interface Server {
  port: number;
  url: string;
  /** The server's working directory (its RDB and AOF files). */
  dir: string;
  stop(): Promise<void>;
  /** kill -9: the server dies at once, without saving anything. */
  kill(): Promise<void>;
  /** Starts the server again on the same port and directory (after kill()). */
  restart(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

async function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('error', () => resolve(false));
    s.once('connect', () => s.write('PING\r\n'));
    s.once('data', (d) => {
      s.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
  });
}

interface Spawned {
  proc: ChildProcess;
  exited(): boolean;
  log(): string;
}

async function spawnServer(port: number, dir: string, extra: string[], module: boolean): Promise<Spawned | null> {
  const proc = spawn(
    redisServer,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--dir', dir, ...(module ? ['--loadmodule', modulePath] : []), ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  running.add(proc);
  let log = '';
  proc.stdout!.on('data', (d) => (log += d));
  proc.stderr!.on('data', (d) => (log += d));
  let exited = false;
  proc.once('exit', () => {
    exited = true;
    running.delete(proc);
  });
  // A deadline, not a sleep: up to 10 s for the server to answer PING (AOF loading included).
  for (let i = 0; i < 200 && !exited; i++) {
    if (await ping(port)) return { proc, exited: () => exited, log: () => log };
    await new Promise((r) => setTimeout(r, 50));
  }
  proc.kill('SIGKILL');
  if (!/Address already in use/.test(log)) throw new Error(`redis-server did not start:\n${log}`);
  return null;
}

async function killed(s: Spawned, signal: NodeJS.Signals): Promise<void> {
  if (s.exited()) return;
  const gone = new Promise((r) => s.proc.once('exit', r));
  s.proc.kill(signal);
  await gone;
}

/** A server with the module loaded (`{ module: false }`: without it). */
export async function startServer(extra: string[] = [], opts: { module?: boolean } = {}): Promise<Server> {
  const module = opts.module !== false;
  if (module && !existsSync(modulePath)) {
    throw new Error(`${modulePath} is not built: run scripts/build.sh at the repository root, or set SWARM_MODULE`);
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'swarm-node-test-'));
  for (let tries = 0; tries < 5; tries++) {
    const port = await freePort();
    let current = await spawnServer(port, dir, extra, module);
    if (!current) continue;
    return {
      port,
      url: `redis://127.0.0.1:${port}`,
      dir,
      async stop() {
        if (current) await killed(current, 'SIGTERM');
        rmSync(dir, { recursive: true, force: true });
      },
      async kill() {
        if (current) await killed(current, 'SIGKILL');
      },
      async restart() {
        for (let i = 0; i < 20; i++) {
          current = await spawnServer(port, dir, extra, module);
          if (current) return;
        }
        throw new Error(`port ${port} stayed busy`);
      },
    };
  }
  throw new Error('no free port for redis-server');
}

/** A raw client handle of any of the supported kinds, with a way to close it. */
export interface ClientKind {
  name: string;
  open(port: number): Promise<{ client: unknown; close(): Promise<void> }>;
}

export const CLIENTS: ClientKind[] = [
  {
    name: 'node-redis 5 RESP2',
    async open(port) {
      const c = createClient5({ url: `redis://127.0.0.1:${port}` });
      await c.connect();
      return { client: c, close: async () => void (await c.close()) };
    },
  },
  {
    name: 'node-redis 5 RESP3',
    async open(port) {
      const c = createClient5({ url: `redis://127.0.0.1:${port}`, RESP: 3 });
      await c.connect();
      return { client: c, close: async () => void (await c.close()) };
    },
  },
  {
    name: 'node-redis 4',
    async open(port) {
      const c = createClient4({ url: `redis://127.0.0.1:${port}` });
      await c.connect();
      return { client: c, close: async () => void (await c.quit()) };
    },
  },
  {
    name: 'ioredis',
    async open(port) {
      const c = new Redis(port, '127.0.0.1');
      return { client: c, close: async () => void (await c.quit()) };
    },
  },
];

export async function openSwarm(kind: ClientKind, port: number): Promise<{ sw: Swarm; close(): Promise<void> }> {
  const { client, close } = await kind.open(port);
  return { sw: new Swarm(client as ConstructorParameters<typeof Swarm>[0]), close };
}

/** What the loaded module supports; the tests of later features skip when it is missing. */
export interface Features {
  edit: boolean;
  wait: boolean;
  withVersion: boolean;
  noSwarm: boolean;
  publishLost: boolean;
  streamSwarmField: boolean;
}

export async function features(sw: Swarm): Promise<Features> {
  const info = async (name: string) => {
    const r = (await sw.call('COMMAND', 'INFO', name)) as unknown[];
    return Array.isArray(r) && r[0] !== null && r[0] !== undefined;
  };
  const probe = `features:${Math.random()}`;
  let noSwarm = false;
  try {
    await sw.publish(probe, 'probe.x', {});
  } catch (err) {
    noSwarm = (err as { code?: string }).code === 'NOSWARM';
  }
  await sw.route.add(probe, 'probe.x', `stream:${probe}:s`);
  const raw = (await sw.call('SWARM.PUBLISH', probe, 'probe.x', '{}')) as unknown[];
  const entry = (await sw.call('XRANGE', `${probe}:s`, '-', '+')) as unknown[][];
  const fields = entry[0]![1] as unknown;
  const hasSwarm = Array.isArray(fields) ? fields.includes('swarm') : Object.keys(fields as object).includes('swarm');
  await sw.call('DEL', probe, `${probe}:s`);
  return {
    edit: await info('swarm.snapshot|edit'),
    wait: await info('swarm.snapshot|wait'),
    withVersion: await sw.snapshot.supportsWithVersion(),
    noSwarm,
    publishLost: raw.length >= 4,
    streamSwarmField: hasSwarm,
  };
}

/**
 * A replica of `master` (module loaded), returned once the master reports it online: a
 * write that WAIT counts is then on it.
 */
export async function startReplica(master: Server, extra: string[] = []): Promise<Server> {
  const replica = await startServer(['--replicaof', '127.0.0.1', String(master.port), ...extra]);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const info = await infoReplication(master.port);
    if (new RegExp(`slave\\d+:ip=127\\.0\\.0\\.1,port=${replica.port},state=online`).test(info)) return replica;
    if (Date.now() > deadline) {
      await replica.stop();
      throw new Error(`replica on port ${replica.port} did not come online:\n${info}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function infoReplication(port: number): Promise<string> {
  const c = createClient5({ url: `redis://127.0.0.1:${port}` });
  await c.connect();
  try {
    return String(await c.sendCommand(['INFO', 'replication']));
  } finally {
    c.destroy();
  }
}
