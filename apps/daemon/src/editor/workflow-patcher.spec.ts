import { describe, expect, it, jest } from '@jest/globals';
import type { ValidationProblem, WorkflowDefinition } from '@anchorflow/engine';
import { MemoryPluginState } from '@anchorflow/plugin-sdk';
import { MemoryWorkflowRepository } from '../testing/memory-workflow-repository.js';
import { WorkflowChangedEvent } from '../workflows/events/workflow-changed.event.js';
import { WorkflowPatcher } from './workflow-patcher.js';

const def: WorkflowDefinition = { name: 'wf', nodes: [{ id: 'start', type: 'core.trigger.manual', params: {} }, { id: 'a', type: 'core.set', params: { fields: { a: 1 } } }], edges: [{ from: 'start', to: 'a' }] };

function setup(problems: ValidationProblem[] = []) {
  const repo = new MemoryWorkflowRepository();
  const events = { publish: jest.fn((_e: object) => undefined) };
  const triggers = { assertCanActivate: jest.fn(), apply: jest.fn(async () => undefined) };
  const applied: number[] = [];
  const patcher = new WorkflowPatcher(repo, { validate: () => problems }, triggers as never, events, new MemoryPluginState(), () => Date.parse('2026-12-07T00:00:00Z'), (a) => applied.push(a.version));
  return { repo, events, triggers, patcher, applied };
}

describe('WorkflowPatcher', () => {
  it('stores a patch as the next version, announces it, and records who made it', async () => {
    const { repo, events, patcher, applied } = setup();
    const wf = await repo.create(def);
    const r = await patcher.patch({ workflowId: wf.id, baseVersion: 1, ops: [{ op: 'rename', name: 'renamed' }], by: 'key:k1' });
    expect(r).toEqual({ ok: true, workflowId: wf.id, version: 2, ops: [{ op: 'rename', name: 'renamed' }], problems: [] });
    expect(applied).toEqual([2]);
    expect(events.publish).toHaveBeenCalledWith(new WorkflowChangedEvent(wf.id, 2, 'updated'));
    await repo.update(wf.id, 2, { ...def, name: 'via REST' });
    expect(await patcher.history(wf.id)).toEqual([
      { version: 3, by: null, at: expect.any(String), ops: [{ op: 'rename', name: 'via REST' }] },
      { version: 2, by: 'key:k1', at: '2026-12-07T00:00:00.000Z', ops: [{ op: 'rename', name: 'renamed' }] },
      { version: 1, by: null, at: expect.any(String), ops: [] },
    ]);
  });

  it('serialises concurrent patches of one workflow and rebases the later one', async () => {
    const { repo, patcher } = setup();
    const wf = await repo.create(def);
    const [r1, r2] = await Promise.all([
      patcher.patch({ workflowId: wf.id, baseVersion: 1, ops: [{ op: 'moveNode', id: 'a', position: { x: 1, y: 2 } }], by: 'key:a' }),
      patcher.patch({ workflowId: wf.id, baseVersion: 1, ops: [{ op: 'setParams', id: 'a', params: { fields: { a: 2 } } }], by: 'key:b' }),
    ]);
    expect([r1.ok && r1.version, r2.ok && r2.version]).toEqual([2, 3]);
    expect(r2).toMatchObject({ rebasedFrom: 1 });
    const stored = await repo.get(wf.id);
    expect(stored?.definition.nodes[1]).toMatchObject({ position: { x: 1, y: 2 }, params: { fields: { a: 2 } } });
  });

  it('keeps an invalid draft (problems returned) but refuses to make an active workflow invalid', async () => {
    const problem: ValidationProblem = { code: 'INVALID_PARAMS', message: 'fields is required', path: '$.nodes[2].params.fields', nodeId: 'b' };
    const { repo, patcher, triggers } = setup([problem]);
    const wf = await repo.create(def);
    expect(await patcher.patch({ workflowId: wf.id, baseVersion: 1, ops: [{ op: 'addNode', node: { id: 'b', type: 'core.set' } }], by: 'key:k' })).toMatchObject({ ok: true, version: 2, problems: [problem] });
    await repo.setActive(wf.id, true);
    expect(await patcher.patch({ workflowId: wf.id, baseVersion: 2, ops: [{ op: 'rename', name: 'x' }], by: 'key:k' })).toMatchObject({ ok: false, code: 'VALIDATION_FAILED', currentVersion: 2 });
    expect(triggers.apply).not.toHaveBeenCalled();
  });

  it('answers a replayed patch id with the version it made; refuses bad bases and unknown workflows', async () => {
    const { repo, patcher } = setup();
    const wf = await repo.create(def);
    const patch = { workflowId: wf.id, baseVersion: 1, ops: [{ op: 'addNode' as const, node: { id: 'n', type: 'core.noop' } }], by: 'key:k', patchId: 'p1' };
    expect(await patcher.patch(patch)).toMatchObject({ ok: true, version: 2 });
    expect(await patcher.patch(patch)).toMatchObject({ ok: true, version: 2, replayed: true });
    expect(await patcher.patch({ ...patch, patchId: undefined, baseVersion: 9 })).toMatchObject({ ok: false, code: 'INVALID_OPS', message: 'baseVersion 9 is newer than the workflow (version 2)' });
    expect(await patcher.patch({ ...patch, patchId: undefined, baseVersion: 2 })).toMatchObject({ ok: false, code: 'INVALID_OPS', message: "ops[0]: node id 'n' is already taken" });
    expect(await patcher.patch({ ...patch, workflowId: 'nope' })).toMatchObject({ ok: false, code: 'NOT_FOUND' });
  });
});
