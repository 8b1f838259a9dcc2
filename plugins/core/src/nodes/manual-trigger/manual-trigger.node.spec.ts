import { describe, expect, it } from '@jest/globals';
import { runNode } from '@anchorflow/plugin-sdk/testing';
import { manualTriggerNode } from './manual-trigger.node.js';

describe('core.trigger.manual', () => {
  it('is a pure start node with one output', () => {
    expect(manualTriggerNode).toMatchObject({ type: 'core.trigger.manual', version: 1, category: 'trigger', inputs: [], outputs: ['main'], pure: true });
  });

  it('emits the execution input on main', async () => {
    const input = { invoice: 42, lines: [1, 2] };
    const result = await runNode(manualTriggerNode, { input });
    expect(result).toMatchObject({ kind: 'output', outputs: { main: input } });
  });

  it('rejects params it does not know, so typos surface', async () => {
    await expect(runNode(manualTriggerNode, { params: { inptu: 1 } })).rejects.toMatchObject({
      code: 'INVALID_PARAMS',
      details: [expect.objectContaining({ path: '$.inptu' })],
    });
  });
});
