import { type CompiledGraph, type ExecutionView, inputOf, type NodeRunStatus } from '@anchorflow/engine';

/** Node runs that received an input (the ones never started have none). */
const RAN: ReadonlySet<NodeRunStatus> = new Set(['running', 'succeeded', 'failed', 'waiting']);

export type GraphSource = { graph(workflowId: string, version: number): Promise<CompiledGraph> };

/**
 * Fills in each started node run's input where the view does not carry it, using the engine's own
 * rule (`inputOf`: one live edge → its payload, several → keyed by source node id) on the recorded
 * outputs. The stored projection keeps outputs only; inputs are a function of them.
 */
export async function withNodeInputs(engine: GraphSource, view: ExecutionView): Promise<ExecutionView> {
  if (view.nodeRuns.every((r) => r.input !== undefined || !RAN.has(r.status))) return view;
  let graph: CompiledGraph;
  try {
    graph = await engine.graph(view.workflowId, view.workflowVersion);
  } catch {
    return view; // the version is gone or no longer compiles: show what is stored
  }
  const runs = new Map(view.nodeRuns.map((r) => [r.nodeId, r]));
  const outputs = graph.nodes.map((n) => ({ output: runs.get(n.id)?.output }));
  return {
    ...view,
    nodeRuns: view.nodeRuns.map((run) => {
      if (run.input !== undefined || !RAN.has(run.status)) return run;
      const node = graph.byId.get(run.nodeId);
      if (!node) return run;
      const { live, input } = inputOf(graph, node.index, outputs, view.input);
      return live ? { ...run, input } : run;
    }),
  };
}
