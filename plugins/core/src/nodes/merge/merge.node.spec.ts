import { describe, expect, it } from '@jest/globals';
import { type NodeDefinition } from '@anchorflow/plugin-sdk';
import { runNode } from '@anchorflow/plugin-sdk/testing';
import { mergeNode } from './merge.node.js';
import type { MergeParams } from './merge.params.js';

/** the harness has no notion of live sources yet, so they are added to the context it builds */
const withSources = (sources: string[]): NodeDefinition<MergeParams> => ({
  ...mergeNode,
  execute: (ctx, input) => mergeNode.execute({ ...ctx, sources } as typeof ctx, input),
});

describe('core.merge', () => {
  const joined = { left: { a: 1 }, right: [2], third: 'x' };

  it('object mode emits the inputs keyed by source node, as the engine gives them', async () => {
    expect(await runNode(withSources(['left', 'right', 'third']), { input: joined })).toMatchObject({ outputs: { main: joined } });
    expect(await runNode(withSources(['left', 'right', 'third']), { params: { mode: 'object' }, input: joined })).toMatchObject({ outputs: { main: joined } });
  });

  it('array mode emits the inputs in edge order', async () => {
    const result = await runNode(withSources(['left', 'right', 'third']), { params: { mode: 'array' }, input: joined });
    expect(result).toMatchObject({ outputs: { main: [{ a: 1 }, [2], 'x'] } });
  });

  it('with a single live input passes it through (object) or wraps it (array)', async () => {
    const only = { a: 1 };
    expect(await runNode(withSources(['left']), { input: only })).toMatchObject({ outputs: { main: only } });
    expect(await runNode(withSources(['left']), { params: { mode: 'array' }, input: only })).toMatchObject({ outputs: { main: [only] } });
    expect(await runNode(withSources(['left']), { params: { mode: 'array' }, input: 'x' })).toMatchObject({ outputs: { main: ['x'] } });
  });

  it('without source information takes an object for a join', async () => {
    expect(await runNode(mergeNode, { params: { mode: 'array' }, input: joined })).toMatchObject({ outputs: { main: [{ a: 1 }, [2], 'x'] } });
    expect(await runNode(mergeNode, { params: { mode: 'array' }, input: [1, 2] })).toMatchObject({ outputs: { main: [[1, 2]] } });
    expect(await runNode(mergeNode, { input: joined })).toMatchObject({ outputs: { main: joined } });
  });

  it('rejects an unknown mode at $.mode', async () => {
    await expect(runNode(mergeNode, { params: { mode: 'zip' } })).rejects.toMatchObject({ code: 'INVALID_PARAMS', details: [expect.objectContaining({ path: '$.mode' })] });
  });
});
