import { isExpression } from '@anchorflow/plugin-sdk';
import { EngineError, type ValidationProblem, type WorkflowDefinition, type WorkflowRepository } from '@anchorflow/engine';

/** the node type that runs another workflow (plugin core); its `workflowId`/`version` params say which */
export const SUBWORKFLOW_NODE_TYPE = 'core.subworkflow';

/** how many workflows the search reads at most (a save stays cheap; deeper chains are cut at run time) */
const MAX_VISITED = 200;

interface Target {
  workflowId: string;
  version?: number;
  /** index of the node in its workflow */
  index: number;
}

function targetsOf(definition: WorkflowDefinition): Target[] {
  const out: Target[] = [];
  definition.nodes.forEach((n, index) => {
    if (n.type !== SUBWORKFLOW_NODE_TYPE) return;
    const { workflowId, version } = (n.params ?? {}) as { workflowId?: unknown; version?: unknown };
    // an expression is only known at run time: the engine's depth limit cuts such a cycle
    if (typeof workflowId !== 'string' || isExpression(workflowId)) return;
    out.push({ workflowId, index, ...(typeof version === 'number' ? { version } : {}) });
  });
  return out;
}

/**
 * The first chain of sub-workflow nodes that leads from `definition` (about to be saved as `workflowId`)
 * back to it, as a problem on the node that starts it; undefined when none is found. Follows fixed
 * `workflowId` params through the versions that would run (the given one, else the latest).
 */
export async function findSubworkflowCycle(workflowId: string, definition: WorkflowDefinition, workflows: Pick<WorkflowRepository, 'get'>): Promise<ValidationProblem | undefined> {
  const seen = new Set<string>();
  for (const start of targetsOf(definition)) {
    // depth-first from this node: [workflow, version] with the chain of workflow ids that led there
    const stack: Array<{ target: Target; chain: string[] }> = [{ target: start, chain: [workflowId] }];
    while (stack.length) {
      const { target, chain } = stack.pop()!;
      if (target.workflowId === workflowId) {
        const workflowsOnCycle = [...chain, workflowId];
        return {
          code: 'SUBWORKFLOW_CYCLE',
          path: `$.nodes[${start.index}].params.workflowId`,
          nodeId: definition.nodes[start.index]!.id,
          message: `sub-workflows would start each other without end: ${workflowsOnCycle.join(' → ')}`,
          workflows: workflowsOnCycle,
        };
      }
      const key = `${target.workflowId}@${target.version ?? 'latest'}`;
      if (seen.has(key) || seen.size >= MAX_VISITED) continue;
      seen.add(key);
      const stored = await workflows.get(target.workflowId, target.version);
      if (!stored) continue;
      for (const next of targetsOf(stored.definition)) stack.push({ target: next, chain: [...chain, target.workflowId] });
    }
  }
  return undefined;
}

/** Throws VALIDATION_FAILED when saving `definition` as `workflowId` would close a cycle of sub-workflows. */
export async function assertNoSubworkflowCycle(workflowId: string, definition: WorkflowDefinition, workflows: Pick<WorkflowRepository, 'get'>): Promise<void> {
  const problem = await findSubworkflowCycle(workflowId, definition, workflows);
  if (problem) throw new EngineError('VALIDATION_FAILED', `workflow is invalid (1 problem): ${problem.path}: ${problem.message}`, [problem]);
}
