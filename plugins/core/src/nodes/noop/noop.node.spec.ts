import { describe, expect, it } from '@jest/globals';
import { runNode } from '@anchorflow/plugin-sdk/testing';
import { noopNode } from './noop.node.js';

describe('core.noop', () => {
  it('passes any input through unchanged', async () => {
    for (const input of [{ a: 1 }, [1, 2], 'text', 0, false]) {
      const result = await runNode(noopNode, { input });
      expect(result).toMatchObject({ kind: 'output', outputs: { main: input } });
    }
  });

  it('takes no params', async () => {
    await expect(runNode(noopNode, { params: { x: true } })).rejects.toMatchObject({ code: 'INVALID_PARAMS', details: [expect.objectContaining({ path: '$.x' })] });
  });
});
