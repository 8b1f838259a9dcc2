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
    expect({ ...value }).toEqual({ path: 'orders/new', method: 'POST', respond: 'immediately', include: 'body', publicOutput: false });
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

  describe('exposure (issue 17)', () => {
    const route = (params: Record<string, unknown>) => webhookTriggerNode.webhook!.route(validateParams(WebhookTriggerParams, params).value);

    it('is public without a secret, signed with one, and key when asked', () => {
      expect(route({ path: 'a' })).toMatchObject({ exposure: 'public' });
      expect(route({ path: 'a', secret: 'partner' })).toMatchObject({ exposure: 'signed' });
      expect(route({ path: 'a', exposure: 'key' })).toMatchObject({ exposure: 'key' });
      expect(route({ path: 'a', maxBodyBytes: 10, rateLimitPerMinute: 5 })).toMatchObject({ maxBodyBytes: 10, rateLimit: { limit: 5, windowMs: 60_000 } });
    });

    it('refuses signed without a secret and a secret nobody checks', () => {
      expect(problemPaths({ path: 'a', exposure: 'signed' })).toEqual(['$.exposure']);
      expect(validateParams(WebhookTriggerParams, { path: 'a', exposure: 'public', secret: 'x' }).problems[0]!.message).toContain('does not check the secret');
    });

    it('hands the output to anonymous callers only when publicOutput says so', () => {
      expect(validateParams(WebhookTriggerParams, { path: 'a', respond: 'lastNode' }).problems).toEqual([
        { path: '$.respond', message: expect.stringContaining('set publicOutput: true') },
      ]);
      expect(problemPaths({ path: 'a', respond: 'lastNode', publicOutput: true })).toEqual([]);
      expect(problemPaths({ path: 'a', respond: 'lastNode', exposure: 'key' })).toEqual([]);
      expect(problemPaths({ path: 'a', respond: 'lastNode', secret: 'partner' })).toEqual([]);
      // one saved before publicOutput existed keeps running, answering 202 instead of its output
      expect(route({ path: 'a', respond: 'lastNode' })).toMatchObject({ respond: 'immediately' });
      expect(route({ path: 'a', respond: 'lastNode', publicOutput: true })).toMatchObject({ respond: 'lastNode' });
    });

    it('shows exposure in the catalog schema', () => {
      const schema = paramsJsonSchema(WebhookTriggerParams) as { properties: Record<string, { enum?: string[]; description?: string }> };
      expect(schema.properties.exposure).toMatchObject({ enum: ['public', 'signed', 'key'] });
      expect(schema.properties.exposure!.description).toContain('Default: `signed` with a `secret`, else `public`');
    });
  });

  it('describes its params for the editor', () => {
    const schema = paramsJsonSchema(WebhookTriggerParams) as { required: string[]; properties: Record<string, { enum?: string[]; default?: string }> };
    expect(schema.required).toEqual(['path']);
    expect(schema.properties.method).toMatchObject({ enum: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], default: 'POST' });
    expect(schema.properties.respond).toMatchObject({ enum: ['immediately', 'lastNode'], default: 'immediately' });
    expect(schema.properties.include).toMatchObject({ enum: ['body', 'request'], default: 'body' });
  });
});
