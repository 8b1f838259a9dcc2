import { describe, expect, it } from '@jest/globals';
import { IsIn, IsInt, IsOptional, IsString, JSONSchema, Max, Min, defineNode, validateParams } from '@anchorflow/plugin-sdk';
import { NodeCatalog } from '../catalog.js';
import { validateWorkflow as validate } from '../workflow/validate-workflow.js';
import { DEFAULT_ENGINE_OPTIONS } from '../engine.types.js';

const validateWorkflow = (def: unknown, catalog: NodeCatalog) => validate(def, catalog, DEFAULT_ENGINE_OPTIONS);
import { checkRemoteDescriptor, describeNodeType, isRemoteNodeDefinition } from './remote-node-type.js';

class ChargeParams {
  @IsString() account!: string;
  @IsInt() @Min(1) @Max(1000) amount!: number;
  @JSONSchema({ default: 'EUR' }) @IsOptional() @IsIn(['EUR', 'USD']) currency: string = 'EUR';
}
const chargeNode = defineNode<ChargeParams>({
  type: 'billing.charge', version: 2, title: 'Charge', category: 'action', inputs: ['main'], outputs: ['main', 'declined'], params: ChargeParams,
  retry: { maxAttempts: 3 }, timeoutMs: 5000,
  execute: () => ({ main: {} }),
});

const workflow = (params: Record<string, unknown>, fromPort = 'main') => ({
  name: 'remote',
  nodes: [
    { id: 'start', type: 'test.trigger' },
    { id: 'charge', type: 'billing.charge', params },
    { id: 'after', type: 'test.trigger' },
  ],
  edges: [{ from: 'start', to: 'charge' }, { from: 'charge', fromPort, to: 'after' }],
});

function catalogWithRemote() {
  const catalog = new NodeCatalog();
  catalog.register(defineNode({ type: 'test.trigger', version: 1, title: 't', category: 'flow', inputs: ['main'], outputs: ['main'], execute: (_c, i) => ({ main: i }) }), 'test');
  // the descriptor travels as JSON
  const descriptor = JSON.parse(JSON.stringify(describeNodeType(chargeNode)));
  expect(checkRemoteDescriptor(descriptor)).toEqual([]);
  expect(catalog.registerRemote(descriptor, 'billing-plugin')).toBe('added');
  return { catalog, descriptor };
}

describe('remote node types in the catalog', () => {
  it('validates workflows against the announced params schema, with paths, like a local DTO would', () => {
    const { catalog } = catalogWithRemote();
    expect(validateWorkflow(workflow({ account: 'a-1', amount: 10 }), catalog).ok).toBe(true);
    const r = validateWorkflow(workflow({ amount: 5000, currency: 'GBP', colour: 'red' }), catalog);
    expect(r.ok).toBe(false);
    const problems = r.ok ? [] : r.problems.map((p) => [p.code, p.path, p.message]);
    expect(problems).toEqual(
      expect.arrayContaining([
        ['INVALID_PARAMS', '$.nodes[1].params.colour', 'unknown param "colour"'],
        ['INVALID_PARAMS', '$.nodes[1].params.account', 'account is required'],
        ['INVALID_PARAMS', '$.nodes[1].params.amount', expect.stringContaining('must be <= 1000')],
        ['INVALID_PARAMS', '$.nodes[1].params.currency', expect.stringContaining('must be equal to one of the allowed values')],
      ]),
    );
  });

  it('leaves =expressions for run time and applies schema defaults', () => {
    const { catalog } = catalogWithRemote();
    const r = validateWorkflow(workflow({ account: '=$.account', amount: '=$.amount' }), catalog);
    expect(r.ok).toBe(true);
    const def = catalog.get('billing.charge')!;
    expect(validateParams(def.params, { account: 'x', amount: 3 }).value).toEqual({ account: 'x', amount: 3, currency: 'EUR' });
  });

  it('checks edges against announced ports and keeps retry and timeout defaults', () => {
    const { catalog } = catalogWithRemote();
    const r = validateWorkflow(workflow({ account: 'a', amount: 1 }, 'refunded'), catalog);
    expect(r.ok ? [] : r.problems.map((p) => p.code)).toEqual(['UNKNOWN_PORT']);
    const ok = validateWorkflow(workflow({ account: 'a', amount: 1 }, 'declined'), catalog);
    expect(ok.ok && ok.graph.byId.get('charge')).toMatchObject({ retry: { maxAttempts: 3 }, timeoutMs: 5000 });
  });

  it('lists the announced schema in the catalog and marks the type remote; a local type is never shadowed', () => {
    const { catalog, descriptor } = catalogWithRemote();
    const info = catalog.list().find((t) => t.type === 'billing.charge')!;
    expect(info).toMatchObject({ plugin: 'billing-plugin', remote: true, outputs: ['main', 'declined'], paramsSchema: descriptor.paramsSchema });
    expect(catalog.isRemote('billing.charge')).toBe(true);
    expect(isRemoteNodeDefinition(catalog.get('billing.charge')!)).toBe(true);
    expect(catalog.registerRemote(descriptor, 'billing-plugin')).toBe('unchanged');
    expect(catalog.registerRemote({ ...descriptor, version: 3 }, 'billing-plugin')).toBe('updated');
    expect(catalog.registerRemote({ ...descriptor, type: 'test.trigger' }, 'other')).toBe('local');
    // a local implementation loaded later replaces the remote registration
    catalog.register(chargeNode, 'billing-local');
    expect(catalog.isRemote('billing.charge')).toBe(false);
  });

  it('rejects malformed descriptors with every reason', () => {
    expect(checkRemoteDescriptor({ type: 'Bad', version: 0, title: '', category: 'x', inputs: [1], outputs: 'some', pure: 'no', paramsSchema: { type: 'strnig' } })).toEqual([
      expect.stringContaining('type'),
      'version must be a positive integer',
      'title must be a non-empty string',
      expect.stringContaining('category'),
      'inputs must be an array of port names',
      'outputs must be an array of port names or "dynamic"',
      'pure must be a boolean',
      'paramsSchema must describe an object',
      expect.stringContaining('paramsSchema is not a valid JSON schema'),
    ]);
  });
});
