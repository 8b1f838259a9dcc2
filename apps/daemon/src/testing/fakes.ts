import type { ExecutionView, StoredWorkflow, ValidationProblem, WorkflowDefinition } from '@anchorflow/engine';
import corePlugin from '@anchorflow/plugin-core';
import type { NodeDefinition } from '@anchorflow/plugin-sdk';

/** The built-in node types by type (what the engine's catalog answers in the daemon). */
export const coreNodeTypes = (type: string): NodeDefinition | undefined => corePlugin.nodes.find((n) => n.type === type);

/** A finished (or running) execution view for handler specs. */
export function executionView(overrides: Partial<ExecutionView> = {}): ExecutionView {
  return {
    id: '0b9c5f3e-8f7a-4c39-9d51-2f0c6f6e7a10',
    workflowId: '6f1d1c1e-58f5-4a36-a3b0-0c2e5bb0f001',
    workflowVersion: 1,
    status: 'succeeded',
    input: { n: 1 },
    output: { last: { ok: true } },
    startedAt: Date.parse('2026-01-01T00:00:00.000Z'),
    finishedAt: Date.parse('2026-01-01T00:00:01.500Z'),
    seq: 4,
    nodeRuns: [
      { nodeId: 'start', status: 'succeeded', attempt: 1, output: { main: { n: 1 } }, startedAt: Date.parse('2026-01-01T00:00:00.100Z'), finishedAt: Date.parse('2026-01-01T00:00:00.200Z') },
      { nodeId: 'last', status: 'succeeded', attempt: 2, input: { n: 1 }, output: { main: { ok: true } }, startedAt: Date.parse('2026-01-01T00:00:01.000Z'), finishedAt: Date.parse('2026-01-01T00:00:01.400Z') },
    ],
    ...overrides,
  };
}

export const webhookDefinition = (params: Record<string, unknown>): WorkflowDefinition => ({
  name: 'hook',
  nodes: [
    { id: 'hook', type: 'core.trigger.webhook', params },
    { id: 'next', type: 'core.noop' },
  ],
  edges: [{ from: 'hook', to: 'next' }],
});

export function storedWorkflow(overrides: Partial<StoredWorkflow> = {}): StoredWorkflow {
  const definition = overrides.definition ?? { name: 'wf', nodes: [{ id: 'start', type: 'core.trigger.manual' }], edges: [] };
  return { id: '6f1d1c1e-58f5-4a36-a3b0-0c2e5bb0f001', name: definition.name, version: 1, active: false, definition, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z', ...overrides };
}

/** A validator that reports the given problems (none: valid). */
export const validator = (problems: ValidationProblem[] = []) => ({ validate: (_definition: unknown) => problems });
