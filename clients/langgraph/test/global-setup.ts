import type { TestProject } from 'vitest/node';
import { startServer, type Server } from './server.js';

let server: Server | undefined;

export async function setup(project: TestProject): Promise<void> {
  server = await startServer();
  project.provide('redisPort', server.port);
}

export async function teardown(): Promise<void> {
  await server?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisPort: number;
  }
}
