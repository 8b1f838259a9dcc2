import { describe, expect, it } from '@jest/globals';
import { paramsJsonSchema } from '@anchorflow/plugin-sdk';
import { runNode } from '@anchorflow/plugin-sdk/testing';
import { setNode } from './set.node.js';
import { SetParams } from './set.params.js';

describe('core.set', () => {
  it('adds and replaces fields on an object input without touching the input', async () => {
    const input = { id: 1, status: 'new', nested: { deep: [1] } };
    const result = await runNode(setNode, { params: { fields: { status: 'seen', extra: { a: [1, null] }, none: null } }, input });
    expect(result).toMatchObject({ kind: 'output', outputs: { main: { id: 1, status: 'seen', nested: { deep: [1] }, extra: { a: [1, null] }, none: null } } });
    expect(input).toEqual({ id: 1, status: 'new', nested: { deep: [1] } });
  });

  it('shares nested values with its input instead of copying them (hot path)', async () => {
    const input = { nested: { deep: [1] } };
    const result = await runNode(setNode, { params: { fields: { x: 1 } }, input });
    expect(result.kind === 'output' && (result.outputs.main as typeof input).nested).toBe(input.nested);
  });

  it.each([[[1, 2]], ['text'], [7], [false]])('wraps a non-object input %j as {value}', async (input) => {
    const result = await runNode(setNode, { params: { fields: { tag: 't' } }, input });
    expect(result).toMatchObject({ outputs: { main: { value: input, tag: 't' } } });
  });

  it('wraps a null input as {value: null}', async () => {
    // runNode turns a null input into {}, so the node is called directly
    const outputs = await setNode.execute({ params: { fields: { tag: 't' } } } as unknown as Parameters<typeof setNode.execute>[0], null);
    expect(outputs).toEqual({ main: { value: null, tag: 't' } });
  });

  it('uses the values of =expressions evaluated against the input', async () => {
    const result = await runNode(setNode, { params: { fields: { total: '=$sum(items)', label: '="n=" & $string($count(items))', literal: 'plain' } }, input: { items: [1, 2, 3] } });
    expect(result).toMatchObject({ outputs: { main: { items: [1, 2, 3], total: 6, label: 'n=3', literal: 'plain' } } });
  });

  it('requires fields to be an object of named values', async () => {
    for (const params of [{}, { fields: [1] }, { fields: 'a' }, { fields: null }, { fields: { '': 1 } }]) {
      await expect(runNode(setNode, { params })).rejects.toMatchObject({ code: 'INVALID_PARAMS', details: [expect.objectContaining({ path: '$.fields' })] });
    }
    await expect(runNode(setNode, { params: { fields: {}, field: {} } })).rejects.toMatchObject({ details: [expect.objectContaining({ path: '$.field' })] });
  });

  it('describes fields as a required object', () => {
    expect(paramsJsonSchema(SetParams)).toMatchObject({ required: ['fields'], properties: { fields: { type: 'object' } } });
    expect(JSON.stringify(paramsJsonSchema(SetParams))).not.toContain('$ref');
  });
});
