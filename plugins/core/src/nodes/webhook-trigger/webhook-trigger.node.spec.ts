import { describe, expect, it } from '@jest/globals';
import { paramsJsonSchema, validateParams } from '@anchorflow/plugin-sdk';
import { runNode } from '@anchorflow/plugin-sdk/testing';
import { webhookTriggerNode } from './webhook-trigger.node.js';
import { WebhookTriggerParams } from './webhook-trigger.params.js';

const problemPaths = (params: unknown) => [...new Set(validateParams(WebhookTriggerParams, params).problems.map((p) => p.path))];

describe('core.trigger.webhook', () => {
  it('is a pure start node that emits what the daemon feeds it', async () => {
    expect(webhookTriggerNode).toMatchObject({ category: 'trigger', inputs: [], outputs: ['main'], pure: true });
    const request = { body: { id: 7 }, headers: { 'x-a': '1' }, query: {}, method: 'POST', path: 'orders/new' };
    const result = await runNode(webhookTriggerNode, { params: { path: 'orders/new', include: 'request' }, input: request });
    expect(result).toMatchObject({ kind: 'output', outputs: { main: request } });
  });

  it('fills method, respond and include with their defaults', () => {
    const { value, problems } = validateParams(WebhookTriggerParams, { path: 'orders/new' });
    expect(problems).toEqual([]);
    expect({ ...value }).toEqual({ path: 'orders/new', method: 'POST', respond: 'immediately', include: 'body' });
  });

  it.each(['orders/new', 'a', 'v1.2/hook_a-b/X9', 'a'.repeat(200)])('accepts the path %s', (path) => {
    expect(problemPaths({ path })).toEqual([]);
  });

  it.each([
    ['a leading slash', '/orders'],
    ['a trailing slash', 'orders/'],
    ['an empty segment', 'orders//new'],
    ['a dot-dot segment', 'orders/../admin'],
    ['a dot segment', './orders'],
    ['a query', 'orders?x=1'],
    ['a space', 'new orders'],
    ['non-ASCII', 'bestellungen/größe'],
    ['more than 200 characters', 'a'.repeat(201)],
    ['nothing', ''],
  ])('rejects a path with %s', (_what, path) => {
    expect(problemPaths({ path })).toContain('$.path');
  });

  it('requires a path and checks the enumerations', () => {
    expect(problemPaths({})).toEqual(['$.path']);
    expect(problemPaths({ path: 'x', method: 'TRACE', respond: 'later', include: 'all' }).sort()).toEqual(['$.include', '$.method', '$.respond']);
    expect(problemPaths({ path: 'x', method: null })).toEqual(['$.method']);
  });

  it('describes its params for the editor', () => {
    const schema = paramsJsonSchema(WebhookTriggerParams) as { required: string[]; properties: Record<string, { enum?: string[]; default?: string }> };
    expect(schema.required).toEqual(['path']);
    expect(schema.properties.method).toMatchObject({ enum: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], default: 'POST' });
    expect(schema.properties.respond).toMatchObject({ enum: ['immediately', 'lastNode'], default: 'immediately' });
    expect(schema.properties.include).toMatchObject({ enum: ['body', 'request'], default: 'body' });
  });
});
