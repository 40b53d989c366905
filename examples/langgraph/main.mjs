// Runs the supervisor graph against SwarmSaver: an interrupt and its resume, a replay from an
// earlier checkpoint, and a fork. Prints one JSON line per stage (the tests read them).
//   REDIS_URL=redis://127.0.0.1:6379 node main.mjs
import { createClient } from 'redis';
import { Command } from '@langchain/langgraph';
import { SwarmSaver } from 'swarm-langgraph';
import { buildGraph } from './graph.mjs';

const client = await createClient({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }).connect();
const checkpointer = new SwarmSaver(client, { prefix: process.env.PREFIX ?? 'example:' });
const graph = buildGraph(checkpointer);
const thread = { configurable: { thread_id: process.env.THREAD ?? 'report-1' } };
const say = (stage, data) => console.log(JSON.stringify({ stage, ...data }));

try {
  // 1. Run until the review step interrupts.
  await graph.invoke({ task: 'Compare Redis modules for agent state' }, thread);
  let state = await graph.getState(thread);
  say('interrupted', { next: state.next, draft: state.values.draft, interrupt: state.tasks[0]?.interrupts[0]?.value });

  // 2. Resume with a rejection, then with an approval.
  await graph.invoke(new Command({ resume: { approve: false, note: 'add a summary' } }), thread);
  state = await graph.getState(thread);
  say('revised', { next: state.next, draft: state.values.draft });
  const done = await graph.invoke(new Command({ resume: { approve: true } }), thread);
  const approvedConfig = (await graph.getState(thread)).config;
  say('approved', { approved: done.approved, draft: done.draft, messages: done.messages.length });

  // 3. Replay: run again from the checkpoint where the writer was next (before the first draft).
  const history = [];
  for await (const s of graph.getStateHistory(thread)) history.push(s);
  const beforeWriter = history.filter((s) => s.next.includes('writer')).at(-1);
  await graph.invoke(null, beforeWriter.config);
  state = await graph.getState(thread);
  say('replayed', {
    from: beforeWriter.config.configurable.checkpoint_id,
    next: state.next,
    draft: state.values.draft,
    parent: state.parentConfig?.configurable?.checkpoint_id,
  });

  // 4. Fork: the same checkpoint with other findings, then run the fork to its end.
  const fork = await graph.updateState(beforeWriter.config, { findings: ['valkey (6)', 'redis (5)'] });
  await graph.invoke(null, fork);
  const forked = await graph.invoke(new Command({ resume: { approve: true } }), thread);
  const forkTuple = await checkpointer.getTuple(fork);
  say('forked', {
    draft: forked.draft,
    approved: forked.approved,
    forkParent: forkTuple.parentConfig.configurable.checkpoint_id,
    forkSource: forkTuple.metadata.source,
    beforeWriter: beforeWriter.config.configurable.checkpoint_id,
  });

  // The original branch is still there, under its own checkpoint ids.
  const all = [];
  for await (const t of checkpointer.list({ configurable: { thread_id: thread.configurable.thread_id } })) all.push(t);
  say('history', {
    checkpoints: all.length,
    namespaces: [...new Set(all.map((t) => t.config.configurable.checkpoint_ns))].sort(),
    approvedDrafts: [...new Set(history.filter((s) => s.values.approved).map((s) => s.values.draft))],
    originalStillApproved: (await checkpointer.getTuple(approvedConfig))?.checkpoint.channel_values.approved === true,
  });
} finally {
  await client.close();
}
