/**
 * A real redis-server with the swarm module (SWARM_MODULE, default build/swarm.so) on a free
 * 127.0.0.1 port, stopped by pid; also the clients the suites run over.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from 'redis';
import { Redis } from 'ioredis';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../../..');
export const modulePath = process.env['SWARM_MODULE'] ?? path.join(repoRoot, 'build/swarm.so');
export const redisServer = process.env['REDIS_SERVER'] ?? 'redis-server';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

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

export interface Server {
  port: number;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

export async function startServer(extra: string[] = []): Promise<Server> {
  const dir = mkdtempSync(path.join(tmpdir(), 'swarm-langgraph-'));
  for (let tries = 0; tries < 5; tries++) {
    const port = await freePort();
    const proc = spawn(
      redisServer,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
        '--loadmodule', modulePath, ...extra],
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
    const deadline = Date.now() + 10_000;
    while (!exited && Date.now() < deadline) {
      if (await ping(port)) {
        return {
          port,
          async stop() {
            if (!exited) {
              const gone = new Promise((r) => proc.once('exit', r));
              proc.kill('SIGTERM');
              await gone;
            }
            rmSync(dir, { recursive: true, force: true });
          },
        };
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    proc.kill('SIGKILL');
    if (!/Address already in use/.test(log)) throw new Error(`redis-server did not start:\n${log}`);
  }
  throw new Error('no free port for redis-server');
}

export interface Opened {
  client: unknown;
  close(): Promise<void>;
}

export interface ClientKind {
  name: string;
  open(port: number): Promise<Opened>;
}

export const CLIENTS: ClientKind[] = [
  {
    name: 'node-redis RESP2',
    async open(port) {
      const c = createClient({ url: `redis://127.0.0.1:${port}` });
      await c.connect();
      return { client: c, close: async () => void (await c.close()) };
    },
  },
  {
    name: 'node-redis RESP3',
    async open(port) {
      const c = createClient({ url: `redis://127.0.0.1:${port}`, RESP: 3 });
      await c.connect();
      return { client: c, close: async () => void (await c.close()) };
    },
  },
  {
    name: 'ioredis',
    async open(port) {
      const c = new Redis(port, '127.0.0.1', { lazyConnect: true });
      await c.connect();
      return { client: c, close: async () => void (await c.quit()) };
    },
  },
];
