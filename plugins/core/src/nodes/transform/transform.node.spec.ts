import { describe, expect, it } from '@jest/globals';
import { NodeError, paramsJsonSchema } from '@anchorflow/plugin-sdk';
import { runNode } from '@anchorflow/plugin-sdk/testing';
import { transformNode } from './transform.node.js';
import { TransformParams } from './transform.params.js';

describe('core.transform', () => {
  it('emits the result of the expression evaluated against the input', async () => {
    const result = await runNode(transformNode, {
      params: { expression: '{ "total": $sum(lines.amount), "first": lines[0].sku }' },
      input: { lines: [{ sku: 'a', amount: 2 }, { sku: 'b', amount: 3 }] },
    });
    expect(result).toMatchObject({ kind: 'output', outputs: { main: { total: 5, first: 'a' } } });
  });

  it('sees the execution bindings', async () => {
    const result = await runNode(transformNode, { params: { expression: '$trigger.user & ":" & $nodes.lookup.id' }, input: {}, trigger: { user: 'ann' }, nodes: { lookup: { id: 9 } } });
    expect(result).toMatchObject({ outputs: { main: 'ann:9' } });
  });

  it('emits null, not nothing, when the expression matches nothing', async () => {
    const result = await runNode(transformNode, { params: { expression: 'missing.field' }, input: { other: 1 } });
    expect(result.kind === 'output' && Object.hasOwn(result.outputs, 'main')).toBe(true);
    expect(result).toMatchObject({ outputs: { main: null } });
  });

  it('rejects an invalid or missing expression at $.expression', async () => {
    await expect(runNode(transformNode, { params: { expression: 'lines[' } })).rejects.toMatchObject({
      code: 'INVALID_PARAMS',
      details: [expect.objectContaining({ path: '$.expression', message: expect.stringContaining('not a valid JSONata expression') })],
    });
    await expect(runNode(transformNode, { params: {} })).rejects.toMatchObject({ details: [expect.objectContaining({ path: '$.expression' })] });
    await expect(runNode(transformNode, { params: { expression: '  ' } })).rejects.toMatchObject({ details: [expect.objectContaining({ path: '$.expression' })] });
  });

  it('fails without retry when evaluation fails, naming the param', async () => {
    const err = await runNode(transformNode, { params: { expression: 'name + 1' }, input: { name: 'x' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NodeError);
    expect(err).toMatchObject({ code: 'EXPRESSION_ERROR', retryable: false, details: { param: 'expression', code: 'T2001' } });
  });

  it('refuses a function result, which could not be passed on', async () => {
    await expect(runNode(transformNode, { params: { expression: 'function($x) { $x }' } })).rejects.toMatchObject({ code: 'TRANSFORM_RESULT_NOT_JSON', retryable: false });
  });

  it('requires the expression in its schema', () => {
    expect(paramsJsonSchema(TransformParams)).toMatchObject({ type: 'object', required: ['expression'], properties: { expression: { type: 'string' } }, additionalProperties: false });
  });
});
