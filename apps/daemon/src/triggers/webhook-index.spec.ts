import { describe, expect, it } from '@jest/globals';
import { coreNodeTypes, storedWorkflow, webhookDefinition } from '../testing/fakes.js';
import { normalizeHookPath, WebhookIndex, webhookRoutesOf } from './webhook-index.js';

const wf = (id: string, params: Record<string, unknown>, active = true) =>
  storedWorkflow({ id, active, definition: webhookDefinition(params) });

describe('WebhookIndex', () => {
  it('applies the trigger defaults (POST, immediately, body)', () => {
    expect(webhookRoutesOf(wf('w1', { path: '/a/b/' }), coreNodeTypes)).toEqual([
      expect.objectContaining({ workflowId: 'w1', nodeId: 'hook', path: 'a/b', method: 'POST', respond: 'immediately', params: expect.objectContaining({ include: 'body' }) }),
    ]);
    expect(normalizeHookPath('//x//')).toBe('x');
  });

  it('routes by path and method; 405 lists the methods of a known path', () => {
    const index = new WebhookIndex(coreNodeTypes);
    index.set(wf('w1', { path: 'a', method: 'post' }));
    index.set(wf('w2', { path: 'a', method: 'GET' }));
    expect(index.match('a', 'POST')).toMatchObject({ route: { workflowId: 'w1' } });
    expect(index.match('a', 'HEAD')).toMatchObject({ route: { workflowId: 'w2' } });
    expect(index.match('a', 'DELETE')).toEqual({ error: 'METHOD_NOT_ALLOWED', allowed: ['GET', 'POST'] });
    expect(index.match('b', 'POST')).toEqual({ error: 'NOT_FOUND' });
    expect(index.size).toBe(2);
  });

  it('replaces a workflow\'s routes on update and drops them on deactivate/remove', () => {
    const index = new WebhookIndex(coreNodeTypes);
    index.set(wf('w1', { path: 'old' }));
    index.set(wf('w1', { path: 'new' }));
    expect(index.match('old', 'POST')).toEqual({ error: 'NOT_FOUND' });
    expect(index.match('new', 'POST')).toMatchObject({ route: { workflowId: 'w1' } });
    index.set(wf('w1', { path: 'new' }, false));
    expect(index.match('new', 'POST')).toEqual({ error: 'NOT_FOUND' });
    index.set(wf('w1', { path: 'new' }));
    index.remove('w1');
    expect(index.size).toBe(0);
  });

  it('reports routes taken by another workflow or twice in one graph', () => {
    const index = new WebhookIndex(coreNodeTypes);
    index.set(wf('w1', { path: 'a' }));
    expect(index.conflicts({ id: 'w1', definition: webhookDefinition({ path: 'a' }) })).toEqual([]);
    expect(index.conflicts({ id: 'w2', definition: webhookDefinition({ path: 'a' }) })).toEqual([{ path: 'a', method: 'POST', nodeId: 'hook', takenBy: { workflowId: 'w1', nodeId: 'hook' } }]);
    expect(index.conflicts({ id: 'w2', definition: webhookDefinition({ path: 'a', method: 'GET' }) })).toEqual([]);
    const twice = {
      name: 'twice',
      nodes: [
        { id: 'h1', type: 'core.trigger.webhook', params: { path: 'z' } },
        { id: 'h2', type: 'core.trigger.webhook', params: { path: 'z', method: 'POST' } },
      ],
      edges: [],
    };
    expect(index.conflicts({ id: 'w3', definition: twice })).toEqual([{ path: 'z', method: 'POST', nodeId: 'h2', takenBy: { workflowId: 'w3', nodeId: 'h1' } }]);
  });
});
