import { describe, expect, it } from '@jest/globals';
import type { ExecutionView } from '@anchorflow/engine';
import corePlugin from '@anchorflow/plugin-core';
import { buildEngine } from '../engine/engine.factory.js';
import { MemoryExecutions } from '../testing/memory-executions.js';
import { MemoryWorkflowRepository } from '../testing/memory-workflow-repository.js';
import { withNodeInputs } from './node-inputs.js';

const engine = buildEngine({
  plugins: [corePlugin],
  store: new MemoryExecutions(),
  workflows: new MemoryWorkflowRepository(),
  sink: { publish: () => undefined },
  logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
  pluginState: () => {
    throw new Error('unused');
  },
  options: { maxConcurrentNodes: 4, maxConcurrentNodesPerExecution: 4, expressionTimeoutMs: 100, maxNodes: 100, wakeUpHorizonMs: 1000, pollIntervalMs: 1000, maxExecutionOutputBytes: 0 },
});

const graph = engine.compile({
  name: 'join',
  nodes: [
    { id: 'start', type: 'core.trigger.manual' },
    { id: 'check', type: 'core.if', params: { condition: 'x > 0' } },
    { id: 'left', type: 'core.noop' },
    { id: 'right', type: 'core.noop' },
    { id: 'join', type: 'core.merge', params: { mode: 'object' } },
  ],
  edges: [
    { from: 'start', to: 'check' },
    { from: 'check', fromPort: 'true', to: 'left' },
    { from: 'check', fromPort: 'false', to: 'right' },
    { from: 'start', to: 'join' },
    { from: 'left', to: 'join' },
  ],
});

const view: ExecutionView = {
  id: 'e1',
  workflowId: 'w1',
  workflowVersion: 1,
  status: 'succeeded',
  input: { x: 1 },
  startedAt: 0,
  seq: 9,
  nodeRuns: [
    { nodeId: 'start', status: 'succeeded', attempt: 1, output: { main: { x: 1 } } },
    { nodeId: 'check', status: 'succeeded', attempt: 1, output: { true: { x: 1 } } },
    { nodeId: 'left', status: 'succeeded', attempt: 1, output: { main: { x: 1, l: 1 } } },
    { nodeId: 'right', status: 'skipped', attempt: 0 },
    { nodeId: 'join', status: 'succeeded', attempt: 1, input: { kept: true }, output: { main: {} } },
  ],
};

describe('withNodeInputs', () => {
  it('derives each started node\'s input from the recorded outputs, by the engine\'s rule', async () => {
    const out = await withNodeInputs({ graph: async () => graph }, view);
    const inputs = Object.fromEntries(out.nodeRuns.map((r) => [r.nodeId, r.input]));
    expect(inputs).toEqual({
      start: { x: 1 }, // a start node gets the execution input
      check: { x: 1 }, // one live edge: its payload
      left: { x: 1 }, // the live port of the if
      right: undefined, // skipped: no input
      join: { kept: true }, // an input the view carries is left alone
    });
  });

  it('leaves the view as it is when the graph cannot be had', async () => {
    const out = await withNodeInputs({ graph: async () => Promise.reject(new Error('gone')) }, view);
    expect(out).toBe(view);
  });
});
