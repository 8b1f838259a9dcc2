import { describe, expect, it } from '@jest/globals';
import { outputPortsOf, paramsJsonSchema, validateParams } from '@anchorflow/plugin-sdk';
import { runNode } from '@anchorflow/plugin-sdk/testing';
import { switchNode, switchPorts } from './switch.node.js';
import { SwitchParams } from './switch.params.js';

const cases = [
  { port: 'big', condition: 'amount >= 1000' },
  { port: 'medium', condition: 'amount >= 100' },
  { port: 'eur', condition: 'currency = "EUR"' },
];
const problems = (params: unknown) => validateParams(SwitchParams, params).problems;

describe('core.switch', () => {
  it('emits the input on the port of the first matching case only', async () => {
    const input = { amount: 5000, currency: 'EUR' };
    const result = await runNode(switchNode, { params: { cases }, input });
    expect(result).toEqual(expect.objectContaining({ kind: 'output', outputs: { big: input } }));
    expect(await runNode(switchNode, { params: { cases }, input: { amount: 10, currency: 'EUR' } })).toMatchObject({ outputs: { eur: { amount: 10 } } });
  });

  it('emits on the default port when no case matches', async () => {
    const input = { amount: 1, currency: 'USD' };
    expect(await runNode(switchNode, { params: { cases }, input })).toEqual(expect.objectContaining({ outputs: { default: input } }));
    expect(await runNode(switchNode, { params: { cases, default: 'other' }, input })).toEqual(expect.objectContaining({ outputs: { other: input } }));
  });

  it('declares the case ports then the default port as its outputs', () => {
    const { value } = validateParams(SwitchParams, { cases });
    expect(outputPortsOf(switchNode, value)).toEqual(['big', 'medium', 'eur', 'default']);
    expect(switchPorts({ cases: [{ port: 'a', condition: 'x' }], default: 'rest' })).toEqual(['a', 'rest']);
    // asked before validation, e.g. while a broken workflow's problems are collected
    expect(switchPorts({ cases: 'nope' as never })).toEqual(['default']);
    expect(switchPorts(undefined)).toEqual(['default']);
  });

  it('reports an invalid condition at its path', async () => {
    await expect(runNode(switchNode, { params: { cases: [{ port: 'a', condition: 'amount >' }] } })).rejects.toMatchObject({
      code: 'INVALID_PARAMS',
      details: [expect.objectContaining({ path: '$.cases[0].condition', message: expect.stringContaining('JSONata') })],
    });
    expect(problems({ cases: [cases[0], { port: 'b' }] }).map((p) => p.path)).toEqual(['$.cases[1].condition']);
  });

  it('reports bad port names at their path', () => {
    expect(problems({ cases: [cases[0], { port: '1st', condition: 'x' }] }).map((p) => p.path)).toContain('$.cases[1].port');
    expect(problems({ cases: [{ port: 'error', condition: 'x' }] })).toEqual([expect.objectContaining({ path: '$.cases[0].port', message: expect.stringContaining('reserved') })]);
    expect(problems({ cases, default: 'not a port' }).map((p) => p.path)).toContain('$.default');
    expect(problems({ cases, default: 'error' }).map((p) => p.path)).toEqual(['$.default']);
    expect(problems({ cases: [{ port: 'a', condition: 'x', when: 1 }] }).map((p) => p.path)).toEqual(['$.cases[0].when']);
  });

  it('requires unique ports, the default included', () => {
    expect(problems({ cases: [cases[0], { port: 'big', condition: 'x' }] })).toEqual([
      { path: '$.cases', message: 'cases[1].port "big" is already used by cases[0]' },
    ]);
    expect(problems({ cases: [{ port: 'default', condition: 'x' }] })).toEqual([expect.objectContaining({ path: '$.cases', message: expect.stringContaining('default port') })]);
    expect(problems({ cases: [{ port: 'rest', condition: 'x' }], default: 'rest' })).toHaveLength(1);
  });

  it('requires ports to be fixed, since edges are checked against them when saving', () => {
    expect(problems({ cases: [{ port: '=$p', condition: 'x' }] })).toEqual([expect.objectContaining({ path: '$.cases[0].port', message: expect.stringContaining('fixed value, not an expression') })]);
    expect(problems({ cases, default: '=$p' })).toEqual([expect.objectContaining({ path: '$.default', message: expect.stringContaining('fixed value') })]);
  });

  it('requires at least one case', () => {
    expect(problems({}).map((p) => p.path)).toContain('$.cases');
    expect(problems({ cases: [] }).map((p) => p.path)).toEqual(['$.cases']);
  });

  it('fails without retry when a condition cannot be evaluated, naming the case', async () => {
    await expect(
      runNode(switchNode, { params: { cases: [{ port: 'a', condition: 'false' }, { port: 'b', condition: 'name + 1' }] }, input: { name: 'x' } }),
    ).rejects.toMatchObject({ code: 'EXPRESSION_ERROR', retryable: false, details: { param: 'cases[1].condition' } });
  });

  it('describes cases inline for the editor', () => {
    const schema = paramsJsonSchema(SwitchParams);
    expect(schema).toMatchObject({
      required: ['cases'],
      properties: { cases: { type: 'array', minItems: 1, items: { required: ['port', 'condition'] } }, default: { type: 'string', default: 'default' } },
    });
    expect(JSON.stringify(schema)).not.toContain('$ref');
  });
});
