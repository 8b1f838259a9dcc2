import { describe, expect, it } from '@jest/globals';
import { paramsJsonSchema, validateParams } from '@anchorflow/plugin-sdk';
import plugin, * as core from './index.js';

const expected = {
  'core.trigger.manual': { name: 'manualTriggerNode', category: 'trigger', pure: true },
  'core.trigger.webhook': { name: 'webhookTriggerNode', category: 'trigger', pure: true },
  'core.trigger.cron': { name: 'cronTriggerNode', category: 'trigger', pure: true },
  'core.trigger.nats': { name: 'natsTriggerNode', category: 'trigger', pure: true },
  'core.transform': { name: 'transformNode', category: 'transform', pure: true },
  'core.set': { name: 'setNode', category: 'transform', pure: true },
  'core.if': { name: 'ifNode', category: 'flow', pure: true },
  'core.switch': { name: 'switchNode', category: 'flow', pure: true },
  'core.merge': { name: 'mergeNode', category: 'flow', pure: true },
  'core.wait': { name: 'waitNode', category: 'flow', pure: false },
  'core.http': { name: 'httpNode', category: 'action', pure: false },
  'core.noop': { name: 'noopNode', category: 'flow', pure: true },
  'core.approval': { name: 'approvalNode', category: 'flow', pure: false },
  'core.subworkflow': { name: 'subworkflowNode', category: 'flow', pure: false },
} as const;

describe('@anchorflow/plugin-core', () => {
  it('registers exactly the core node types', () => {
    expect(plugin.name).toBe('@anchorflow/plugin-core');
    expect(plugin.version).toBe('0.1.0');
    expect(plugin.nodes.map((n) => n.type).sort()).toEqual(Object.keys(expected).sort());
  });

  it.each(Object.entries(expected))('%s is exported by name and described for the catalog', (type, want) => {
    const def = plugin.nodes.find((n) => n.type === type)!;
    expect((core as Record<string, unknown>)[want.name]).toBe(def);
    expect(def).toMatchObject({ version: 1, category: want.category });
    expect(def.pure === true).toBe(want.pure);
    expect(def.title.length).toBeGreaterThan(0);
    // one sentence
    expect(def.description).toMatch(/^[A-Z][^]*\.$/);
    expect(def.description!.slice(0, -1)).not.toMatch(/\.\s/);
    expect(def.inputs).toEqual(want.category === 'trigger' ? [] : ['main']);
    expect(def.params).toBeDefined();
  });

  it('gives every node an object params schema without dangling references', () => {
    for (const def of plugin.nodes) {
      const schema = paramsJsonSchema(def.params) as { additionalProperties?: unknown };
      expect(schema.additionalProperties).toBe(false);
      expect(JSON.stringify(schema)).not.toContain('$ref');
    }
  });

  it('accepts what the architecture document shows for core.if', () => {
    expect(validateParams(core.IfParams, { condition: 'amount > 100' }).problems).toEqual([]);
  });
});
