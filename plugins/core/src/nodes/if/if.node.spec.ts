import { describe, expect, it } from '@jest/globals';
import { runNode } from '@anchorflow/plugin-sdk/testing';
import jsonata from 'jsonata';
import { jsonataBoolean } from '../../shared/expression.js';
import { ifNode } from './if.node.js';

describe('core.if', () => {
  it('passes the input on port true when the condition holds, else on port false', async () => {
    const input = { amount: 150 };
    expect(await runNode(ifNode, { params: { condition: 'amount > 100' }, input })).toMatchObject({ kind: 'output', outputs: { true: input } });
    const other = { amount: 50 };
    const result = await runNode(ifNode, { params: { condition: 'amount > 100' }, input: other });
    expect(result).toMatchObject({ outputs: { false: other } });
    expect(result.kind === 'output' && Object.keys(result.outputs)).toEqual(['false']);
  });

  it('treats a condition that matches nothing as false', async () => {
    expect(await runNode(ifNode, { params: { condition: 'missing' }, input: {} })).toMatchObject({ outputs: { false: {} } });
  });

  it.each<[unknown]>([[0], [1], [''], ['x'], [null], [true], [false], [[]], [[0]], [[0, 1]], [[0, '']], [{}], [{ a: 0 }], [[[]]], [[{}]]])(
    'reads %j the way JSONata $boolean() does',
    async (value) => {
      expect(jsonataBoolean(value)).toBe(await jsonata('$boolean($v)').evaluate({}, { v: value }));
      // through a path, as users write conditions (JSONata may flatten the value on the way)
      const viaPath = await jsonata('$boolean(v)').evaluate({ v: value });
      const result = await runNode(ifNode, { params: { condition: 'v' }, input: { v: value } });
      expect(result.kind === 'output' && Object.keys(result.outputs)).toEqual([String(viaPath ?? false)]);
    },
  );

  it('rejects an invalid or missing condition at $.condition', async () => {
    await expect(runNode(ifNode, { params: { condition: 'amount >' } })).rejects.toMatchObject({ code: 'INVALID_PARAMS', details: [expect.objectContaining({ path: '$.condition' })] });
    await expect(runNode(ifNode, { params: {} })).rejects.toMatchObject({ details: [expect.objectContaining({ path: '$.condition' })] });
  });

  it('fails without retry when the condition cannot be evaluated', async () => {
    await expect(runNode(ifNode, { params: { condition: '$number(code) > 1' }, input: { code: 'abc' } })).rejects.toMatchObject({ code: 'EXPRESSION_ERROR', retryable: false, details: { param: 'condition' } });
  });
});
