/**
 * Runs examples/langgraph (a supervisor, a researcher subgraph and a writer, with an
 * interrupt, a resume, a replay and a fork) with @langchain/langgraph against SwarmSaver,
 * and checks every stage it prints.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { inject } from 'vitest';
import { repoRoot } from './server.js';

const run = promisify(execFile);
const port = inject('redisPort');

test('the supervisor example interrupts, resumes, replays and forks on SwarmSaver', async () => {
  const dir = path.join(repoRoot, 'examples/langgraph');
  const { stdout } = await run(process.execPath, ['main.mjs'], {
    cwd: dir,
    env: { ...process.env, REDIS_URL: `redis://127.0.0.1:${port}`, PREFIX: `example:${process.pid}:`, THREAD: 't-1' },
    timeout: 60_000,
  });
  const stages = Object.fromEntries(
    stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { stage: string } & Record<string, unknown>)
      .map((s) => [s.stage, s]),
  );
  const firstDraft =
    'Report: Compare Redis modules for agent state\n1. agent (5)\n2. compare (7)\n3. for (3)\n4. modules (7)\n5. redis (5)\n6. state (5)';
  expect(stages['interrupted']).toMatchObject({
    next: ['review'],
    draft: firstDraft,
    interrupt: { question: 'approve this draft?', draft: firstDraft },
  });
  expect(stages['revised']).toMatchObject({ next: ['review'], draft: `${firstDraft}\nNote: add a summary` });
  expect(stages['approved']).toMatchObject({ approved: true, draft: `${firstDraft}\nNote: add a summary`, messages: 11 });
  // The replay from before the writer produced the first draft again, and stopped at review.
  expect(stages['replayed']).toMatchObject({ next: ['review'], draft: firstDraft });
  const forked = stages['forked']!;
  expect(forked).toMatchObject({
    draft: 'Report: Compare Redis modules for agent state\n1. valkey (6)\n2. redis (5)',
    approved: true,
    forkSource: 'update',
  });
  expect(forked['forkParent']).toBe(forked['beforeWriter']);
  expect(stages['history']).toMatchObject({
    checkpoints: 25,
    approvedDrafts: [`${firstDraft}\nNote: add a summary`],
    originalStillApproved: true,
  });
  const namespaces = stages['history']!['namespaces'] as string[];
  expect(namespaces[0]).toBe('');
  expect(namespaces[1]).toMatch(/^researcher:/);
});
