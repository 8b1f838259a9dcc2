import { describe, expect, it, jest } from '@jest/globals';
import type { ExecutionView, StartExecutionRequest } from '@anchorflow/engine';
import { IsString, WebhookRejection, defineNode, signWebhookPayload } from '@anchorflow/plugin-sdk';
import { ApiError } from '../../../common/api-error.js';
import { coreNodeTypes, executionView, storedWorkflow, webhookDefinition } from '../../../testing/fakes.js';
import { WebhookIndex } from '../../../triggers/webhook-index.js';
import { HandleWebhookCommand, type WebhookRequest } from './handle-webhook.command.js';
import { HandleWebhookHandler } from './handle-webhook.handler.js';

const EXEC_ID = executionView().id;

function setup(params: Record<string, unknown>, ...result: [ExecutionView | undefined] | []) {
  const finished = result.length ? result[0] : executionView();
  const webhooks = new WebhookIndex(coreNodeTypes);
  const workflow = storedWorkflow({ active: true, version: 3, definition: webhookDefinition(params) });
  webhooks.set(workflow);
  const engine = {
    start: jest.fn(async (_req: StartExecutionRequest) => ({ executionId: EXEC_ID, duplicate: false })),
    whenFinished: jest.fn(async (_id: string, _ms: number) => finished),
  };
  const handler = new HandleWebhookHandler(engine, { webhooks }, { hooks: { responseTimeoutMs: 1234 } });
  return { engine, handler, workflow };
}

const req = (over: Partial<WebhookRequest> = {}): HandleWebhookCommand =>
  new HandleWebhookCommand({ path: 'orders', method: 'POST', body: { id: 1 }, headers: { 'content-type': 'application/json' }, query: {}, ...over });

describe('HandleWebhookHandler', () => {
  it('respond immediately: starts the workflow from the webhook node with the body and answers 202', async () => {
    const { engine, handler, workflow } = setup({ path: 'orders' });
    expect(await handler.execute(req())).toEqual({ status: 202, body: { id: EXEC_ID, executionId: EXEC_ID, status: 'running' }, executionId: EXEC_ID });
    expect(engine.start).toHaveBeenCalledWith({ workflowId: workflow.id, version: 3, definition: workflow.definition, input: { id: 1 }, triggerNodeId: 'hook' });
    expect(engine.whenFinished).not.toHaveBeenCalled();
  });

  it('include request: the workflow gets body, headers, query, method and path', async () => {
    const { engine, handler } = setup({ path: 'orders', include: 'request' });
    await handler.execute(req({ query: { a: '1' } }));
    expect(engine.start.mock.calls[0]![0].input).toEqual({ body: { id: 1 }, headers: { 'content-type': 'application/json' }, query: { a: '1' }, method: 'POST', path: 'orders' });
  });

  it('include request: the caller\'s authorization, cookie and API-key headers are not stored (issue 17)', async () => {
    const { engine, handler } = setup({ path: 'orders', include: 'request' });
    const secret = { authorization: 'Bearer afk_secret', cookie: 'session=s3cret', 'x-api-key': 'k-123', 'X-Auth-Token': 't-1', 'proxy-authorization': 'Basic eA==' };
    await handler.execute(req({ headers: { 'content-type': 'application/json', 'x-request-id': 'r1', ...secret } }));
    const input = engine.start.mock.calls[0]![0].input as { headers: Record<string, unknown> };
    expect(input.headers).toEqual({ 'content-type': 'application/json', 'x-request-id': 'r1' });
    expect(JSON.stringify(input)).not.toMatch(/afk_secret|s3cret|k-123|t-1|eA==/);
  });

  it('lastNode: waits up to hooks.responseTimeoutMs and answers with the only output value', async () => {
    const { engine, handler } = setup({ path: 'orders', respond: 'lastNode', publicOutput: true });
    expect(await handler.execute(req())).toEqual({ status: 200, body: { ok: true }, executionId: EXEC_ID });
    expect(engine.whenFinished).toHaveBeenCalledWith(EXEC_ID, 1234);
    expect(engine.start.mock.calls[0]![0]).toMatchObject({ awaitDurable: false });
  });

  it('lastNode with several sink outputs answers the whole output object', async () => {
    const output = { a: { x: 1 }, b: { y: 2 } };
    const { handler } = setup({ path: 'orders', respond: 'lastNode', publicOutput: true }, executionView({ output }));
    expect((await handler.execute(req())).body).toEqual(output);
  });

  it('lastNode failed: 500 EXECUTION_FAILED naming the execution and node', async () => {
    const failed = executionView({ status: 'failed', output: undefined, error: { message: 'upstream said 503', code: 'HTTP_5XX', retryable: true, nodeId: 'call' } });
    const { handler } = setup({ path: 'orders', respond: 'lastNode', publicOutput: true }, failed);
    expect(await handler.execute(req())).toEqual({
      status: 500,
      executionId: EXEC_ID,
      body: { error: { code: 'EXECUTION_FAILED', message: 'upstream said 503', details: { executionId: EXEC_ID, nodeId: 'call', errorCode: 'HTTP_5XX' } } },
    });
  });

  it('lastNode not finished in time: 202 with the id', async () => {
    const { handler } = setup({ path: 'orders', respond: 'lastNode', publicOutput: true }, undefined);
    expect(await handler.execute(req())).toEqual({ status: 202, body: { id: EXEC_ID, executionId: EXEC_ID, status: 'running' }, executionId: EXEC_ID });
  });

  it('404 for an unknown path, 405 naming the allowed methods', async () => {
    const { engine, handler } = setup({ path: 'orders', method: 'PUT' });
    await expect(handler.execute(req({ path: 'other' }))).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('/hooks/other') });
    const err = await handler.execute(req()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 405, code: 'METHOD_NOT_ALLOWED', details: { allowed: ['PUT'] } });
    expect(engine.start).not.toHaveBeenCalled();
  });

  it('no body: the input is {}', async () => {
    const { engine, handler } = setup({ path: 'orders' });
    await handler.execute(req({ body: undefined }));
    expect(engine.start.mock.calls[0]![0].input).toEqual({});
  });
});

describe('HandleWebhookHandler with a plugin-declared webhook trigger', () => {
  class SignedParams {
    @IsString()
    route!: string;
  }
  // a trigger from another plugin: the router knows nothing about it beyond its webhook capability
  const signedTrigger = defineNode<SignedParams>({
    type: 'acme.signed-hook', version: 1, title: 'Signed hook', category: 'trigger', inputs: [], outputs: ['main'], params: SignedParams, pure: true,
    webhook: {
      route: (p) => ({ path: `acme/${p.route}`, method: 'PUT', respond: 'immediately' }),
      verify: async (request, ctx) => {
        const secret = (await ctx.credentials.get<{ token: string }>('acme')).token;
        if (request.headers['x-acme-token'] !== secret) throw new WebhookRejection(401, 'BAD_SIGNATURE', 'x-acme-token does not match');
      },
      input: (request, p) => ({ route: p.route, order: (request.body as { order?: unknown }).order }),
    },
    execute: (_ctx, input) => ({ main: input }),
  });
  const setupSigned = () => {
    const webhooks = new WebhookIndex((type) => (type === signedTrigger.type ? signedTrigger : undefined));
    const workflow = storedWorkflow({ active: true, definition: { name: 'signed', nodes: [{ id: 'in', type: 'acme.signed-hook', params: { route: 'orders' } }], edges: [] } });
    webhooks.set(workflow);
    const engine = {
      start: jest.fn(async (_req: StartExecutionRequest) => ({ executionId: EXEC_ID, duplicate: false })),
      whenFinished: jest.fn(async () => executionView()),
    };
    const credentials = { get: async <T extends object>() => ({ token: 's3cret' }) as unknown as T };
    return { engine, handler: new HandleWebhookHandler(engine, { webhooks }, { hooks: { responseTimeoutMs: 1000 } }, { credentials }) };
  };

  it('routes by what the capability declares and maps the request to the input it builds', async () => {
    const { engine, handler } = setupSigned();
    const res = await handler.execute(req({ path: 'acme/orders', method: 'PUT', headers: { 'x-acme-token': 's3cret' }, body: { order: 9, noise: true } }));
    expect(res.status).toBe(202);
    expect(engine.start.mock.calls[0]![0]).toMatchObject({ triggerNodeId: 'in', input: { route: 'orders', order: 9 } });
    await expect(handler.execute(req({ path: 'acme/orders', method: 'POST' }))).rejects.toMatchObject({ status: 405, details: { allowed: ['PUT'] } });
  });

  it('a request the verify hook rejects gets its status and code, and starts nothing', async () => {
    const { engine, handler } = setupSigned();
    const err = await handler.execute(req({ path: 'acme/orders', method: 'PUT', headers: { 'x-acme-token': 'guess' } })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 401, code: 'BAD_SIGNATURE', message: 'x-acme-token does not match' });
    expect(engine.start).not.toHaveBeenCalled();
  });
});

describe('HandleWebhookHandler: the gate of core.trigger.webhook (issue 11 and 17)', () => {
  const SECRET = 'whsec_partner_0123456789';
  const NOW = Date.parse('2026-12-07T10:00:00Z');
  function gated(params: Record<string, unknown>, principal?: { role: string }) {
    const webhooks = new WebhookIndex(coreNodeTypes);
    webhooks.set(storedWorkflow({ active: true, definition: webhookDefinition(params) }));
    let now = NOW;
    const engine = {
      start: jest.fn(async (_req: StartExecutionRequest) => ({ executionId: EXEC_ID, duplicate: false })),
      whenFinished: jest.fn(async () => executionView()),
      now: () => now,
    };
    const credentials = { get: async <T extends object>(ref: string) => (ref === 'partner' ? ({ secret: SECRET } as unknown as T) : Promise.reject(new Error(`credential "${ref}" not found`))) };
    const authenticator = {
      authenticate: async () => {
        if (!principal) throw new ApiError(401, 'UNAUTHORIZED', 'authentication required');
        return { via: 'api-key' as const, keyId: 'k', role: principal.role as never };
      },
    };
    const handler = new HandleWebhookHandler(engine, { webhooks }, { hooks: { responseTimeoutMs: 1000 } }, { credentials }, undefined, authenticator);
    return { engine, handler, advance: (ms: number) => void (now += ms) };
  }
  const signed = (body: string, t = Math.floor(NOW / 1000), secret = SECRET) =>
    req({ body: JSON.parse(body), rawBody: Buffer.from(body), headers: { 'content-type': 'application/json', 'x-anchorflow-signature': signWebhookPayload(secret, body, t) } });
  const refused = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a refusal'); }, (e: unknown) => e as ApiError);

  it('signed: the exact bytes signed with the secret start the workflow', async () => {
    const { engine, handler } = gated({ path: 'orders', secret: 'partner' });
    expect((await handler.execute(signed('{"id": 1}'))).status).toBe(202);
    expect(engine.start.mock.calls[0]![0].input).toEqual({ id: 1 });
  });

  it.each([
    ['no signature header', () => req({ rawBody: Buffer.from('{"id":1}') }), /header is missing/],
    ['a malformed header', () => req({ rawBody: Buffer.from('{"id":1}'), headers: { 'x-anchorflow-signature': 'sha256=abc' } }), /must look like/],
    ['another secret', () => signed('{"id":1}', undefined, 'guessed-secret-000000'), /does not match/],
    ['a changed body', () => ({ ...signed('{"id":1}'), request: { ...signed('{"id":1}').request, rawBody: Buffer.from('{"id":2}') } }) as HandleWebhookCommand, /does not match/],
    ['a timestamp older than 5 minutes', () => signed('{"id":1}', Math.floor(NOW / 1000) - 301), /301 s old/],
  ])('signed: %s is 401 SIGNATURE_INVALID and starts nothing', async (_what, request, message) => {
    const { engine, handler } = gated({ path: 'orders', secret: 'partner' });
    const err = await refused(handler.execute(request()));
    expect(err).toMatchObject({ status: 401, code: 'SIGNATURE_INVALID', message: expect.stringMatching(message) });
    expect(engine.start).not.toHaveBeenCalled();
  });

  it('signed with a secret that is not in the vault: 401, nothing starts', async () => {
    const { engine, handler } = gated({ path: 'orders', secret: 'gone' });
    expect(await refused(handler.execute(signed('{}')))).toMatchObject({ status: 401, code: 'SIGNATURE_INVALID' });
    expect(engine.start).not.toHaveBeenCalled();
  });

  it('maxBodyBytes: a larger body is 413 PAYLOAD_TOO_LARGE; one of the size passes', async () => {
    const { engine, handler } = gated({ path: 'orders', maxBodyBytes: 10 });
    expect(await refused(handler.execute(req({ rawBody: Buffer.from('{"id":1234}') })))).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE', details: { maxBodyBytes: 10 } });
    expect(engine.start).not.toHaveBeenCalled();
    expect((await handler.execute(req({ rawBody: Buffer.from('{"id":123}') }))).status).toBe(202);
  });

  it('rateLimitPerMinute: past the limit 429 with the seconds to wait, nothing starts; the next minute passes', async () => {
    const { engine, handler, advance } = gated({ path: 'orders', rateLimitPerMinute: 2 });
    await handler.execute(req());
    advance(20_000);
    await handler.execute(req());
    expect(await refused(handler.execute(req()))).toMatchObject({ status: 429, code: 'TOO_MANY_REQUESTS', details: { retryAfterSec: 40, limit: 2 } });
    expect(engine.start).toHaveBeenCalledTimes(2);
    advance(40_000);
    expect((await handler.execute(req())).status).toBe(202);
  });

  it('rate limit counts only admitted callers: bad signatures do not use up the sender\'s quota', async () => {
    const { engine, handler } = gated({ path: 'orders', secret: 'partner', rateLimitPerMinute: 1 });
    for (let i = 0; i < 3; i++) expect(await refused(handler.execute(req({ rawBody: Buffer.from('{}') })))).toMatchObject({ status: 401 });
    expect((await handler.execute(signed('{}'))).status).toBe(202);
    expect(await refused(handler.execute(signed('{}')))).toMatchObject({ status: 429 });
    expect(engine.start).toHaveBeenCalledTimes(1);
  });

  it('key: no credentials is 401, a role without executions:run 403, an operator passes and may get the output', async () => {
    expect(await refused(gated({ path: 'orders', exposure: 'key' }).handler.execute(req()))).toMatchObject({ status: 401 });
    expect(await refused(gated({ path: 'orders', exposure: 'key' }, { role: 'viewer' }).handler.execute(req()))).toMatchObject({ status: 403, details: { permission: 'executions:run' } });
    const { handler } = gated({ path: 'orders', exposure: 'key', respond: 'lastNode' }, { role: 'operator' });
    expect(await handler.execute(req())).toMatchObject({ status: 200, body: { ok: true } });
  });

  it('public lastNode without publicOutput (saved before it existed) answers 202, not the output', async () => {
    const { handler } = gated({ path: 'orders', respond: 'lastNode' });
    expect(await handler.execute(req())).toMatchObject({ status: 202, body: { status: 'running' } });
  });
});
