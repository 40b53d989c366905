// A supervisor and two worker agents (a researcher and a writer) with a human review step,
// as a LangGraph StateGraph. No LLM: every node is deterministic, so a replay reproduces
// the same state and the tests can compare runs exactly.
//
//   START -> supervisor -> researcher (a subgraph: gather -> summarize) -> supervisor
//                       -> writer -> supervisor -> review (interrupt) -> supervisor -> END
import { Annotation, END, START, StateGraph, interrupt } from '@langchain/langgraph';

const append = (a, b) => a.concat(b);

export const State = Annotation.Root({
  task: Annotation(),
  messages: Annotation({ reducer: append, default: () => [] }),
  findings: Annotation({ reducer: (_a, b) => b, default: () => [] }),
  draft: Annotation(),
  note: Annotation(),
  approved: Annotation(),
  next: Annotation(),
});

// The supervisor routes on what the state already has.
function supervisor(state) {
  let next;
  if (state.findings.length === 0) next = 'researcher';
  else if (!state.draft) next = 'writer';
  else if (state.approved === undefined) next = 'review';
  else next = END;
  return { next, messages: [{ from: 'supervisor', text: `next: ${next === END ? 'done' : next}` }] };
}

// The researcher is a graph of its own, so its checkpoints live in their own namespace.
const Research = Annotation.Root({
  task: Annotation(),
  words: Annotation(),
  findings: Annotation(),
});

const researcherGraph = new StateGraph(Research)
  .addNode('gather', (s) => ({ words: s.task.toLowerCase().split(/\W+/).filter(Boolean) }))
  .addNode('summarize', (s) => ({
    findings: [...new Set(s.words)].sort().map((w) => `${w} (${w.length})`),
  }))
  .addEdge(START, 'gather')
  .addEdge('gather', 'summarize')
  .addEdge('summarize', END)
  .compile();

async function researcher(state, config) {
  const out = await researcherGraph.invoke({ task: state.task }, config);
  return {
    findings: out.findings,
    messages: [{ from: 'researcher', text: `${out.findings.length} findings` }],
  };
}

function writer(state) {
  const lines = state.findings.map((f, i) => `${i + 1}. ${f}`);
  const draft = [`Report: ${state.task}`, ...lines, ...(state.note ? [`Note: ${state.note}`] : [])].join('\n');
  return { draft, messages: [{ from: 'writer', text: `draft of ${draft.length} chars` }] };
}

// Stops the graph until a person answers: { approve: boolean, note?: string }.
function review(state) {
  const answer = interrupt({ question: 'approve this draft?', draft: state.draft });
  if (answer.approve) return { approved: true, messages: [{ from: 'human', text: 'approved' }] };
  return { draft: null, note: answer.note ?? 'revise', messages: [{ from: 'human', text: `revise: ${answer.note}` }] };
}

export function buildGraph(checkpointer) {
  return new StateGraph(State)
    .addNode('supervisor', supervisor)
    .addNode('researcher', researcher)
    .addNode('writer', writer)
    .addNode('review', review)
    .addEdge(START, 'supervisor')
    .addConditionalEdges('supervisor', (s) => s.next, ['researcher', 'writer', 'review', END])
    .addEdge('researcher', 'supervisor')
    .addEdge('writer', 'supervisor')
    .addEdge('review', 'supervisor')
    .compile({ checkpointer });
}
