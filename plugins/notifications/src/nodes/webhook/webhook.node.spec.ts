import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { credentialParamsOf, NodeError, paramsJsonSchema, TransientNodeError, verifyWebhookSignature } from '@anchorflow/plugin-sdk';
import { RecordingMetrics, runNode } from '@anchorflow/plugin-sdk/testing';
import { startHttpSink, type HttpSink } from '../../spec-support/http-sink.js';
import { runWithRetries } from '../../spec-support/retrying.js';
import { webhookNode } from './webhook.node.js';

/** the receivers of these tests listen on loopback, which ctx.fetch refuses unless allow-listed */
const LOOPBACK = { allowHosts: ['127.0.0.1'] };
import { WebhookParams } from './webhook.params.js';

const SECRET = 'whsec-0123456789abcdef-never-logged';
let sink: HttpSink;

beforeAll(async () => {
  sink = await startHttpSink();
});
afterAll(() => sink.close());

describe('notify.webhook against a real receiver', () => {
  it('signs each attempt, keeps the Idempotency-Key, and gets through 500, 429 (Retry-After: 1), then 200', async () => {
    // the receiver checks what a real one would: the signature over the raw body and the key
    sink.on('/hook', (req, nth) => {
      const check = verifyWebhookSignature(SECRET, req.headers['x-anchorflow-signature'] as string, req.body);
      if (!check.ok) return { status: 401, body: check.message };
      if (req.headers['idempotency-key'] !== 'exec-9:notify') return { status: 400, body: 'bad key' };
      return nth === 1 ? { status: 500, body: 'boom' } : nth === 2 ? { status: 429, headers: { 'retry-after': '1' }, body: 'slow down' } : { status: 200, body: 'ok' };
    });
    const before = sink.requests.length;
    const metrics = new RecordingMetrics();
    const run = await runWithRetries(webhookNode, {
      metrics,
      credentials: { signer: { secret: SECRET } },
      idempotencyKey: 'exec-9:notify',
      input: { event: 'order.paid', id: 7 },
      params: { url: `${sink.url}/hook?token=q-secret`, credential: 'signer', headers: { 'x-tenant': 'acme', 'Idempotency-Key': 'ignored' } },
    });
    expect(run.errors.map((e) => [e.code, e.retryable, (e as TransientNodeError).retryAfterMs])).toEqual([
      ['WEBHOOK_5XX', true, undefined],
      ['WEBHOOK_RATE_LIMITED', true, 1000],
    ]);
    expect(run.errors[0]!.message).toBe(`webhook ${sink.url}/hook answered 500: boom`);
    expect(run.errors[0]!.details).toEqual({ status: 500, body: 'boom' });
    expect(run.output).toEqual({ channel: 'webhook', status: 'sent', attempts: 3, httpStatus: 200, durationMs: expect.any(Number) });
    const reqs = sink.requests.slice(before);
    expect(reqs).toHaveLength(3);
    for (const r of reqs) {
      expect(r.json).toEqual({ event: 'order.paid', id: 7 });
      expect(r.headers).toMatchObject({ 'content-type': 'application/json', 'idempotency-key': 'exec-9:notify', 'x-tenant': 'acme', 'x-anchorflow-signature': expect.stringMatching(/^t=\d+,v1=[0-9a-f]{64}$/) });
    }
    // a re-run after success does not post again (the record answers)
    const again = await runNode(webhookNode, { outbound: LOOPBACK, metrics, credentials: { signer: { secret: SECRET } }, idempotencyKey: 'exec-9:notify', state: run.state, params: { url: `${sink.url}/hook`, credential: 'signer' } });
    expect(again.kind === 'output' && again.outputs.main).toMatchObject({ status: 'sent', replayed: true, attempts: 3 });
    expect(sink.requests.length).toBe(before + 3);
    // every attempt is visible to operators: anchorflow_plugin_notifications_deliveries_total{channel, outcome}
    expect(['failed', 'sent', 'replayed'].map((outcome) => metrics.value('deliveries_total', { channel: 'webhook', outcome }))).toEqual([2, 1, 1]);
  });

  it('goes out through ctx.fetch: a loopback receiver not allow-listed by the admin is refused, not retried, nothing sent', async () => {
    const before = sink.requests.length;
    await expect(runNode(webhookNode, { params: { url: `${sink.url}/private` } })).rejects.toMatchObject({ code: 'OUTBOUND_BLOCKED', retryable: false });
    expect(sink.requests.length).toBe(before);
  });

  it('does not retry another 4xx: the error carries the status and a short excerpt, not the query string', async () => {
    sink.on('/refuse', [{ status: 422, body: { error: 'unknown event type', detail: 'x'.repeat(1000) } }]);
    const run = await runWithRetries(webhookNode, { params: { url: `${sink.url}/refuse?apikey=sekrit-in-query`, body: { a: 1 } } });
    expect(run.errors).toHaveLength(1);
    const err = run.errors[0]!;
    expect(err).toBeInstanceOf(NodeError);
    expect(err.retryable).toBe(false);
    expect(err.code).toBe('WEBHOOK_REFUSED');
    expect((err.details as { status: number; body: string }).status).toBe(422);
    expect((err.details as { body: string }).body).toHaveLength(300);
    expect(err.message).toMatch(/^webhook http:\/\/127\.0\.0\.1:\d+\/refuse answered 422: \{"error":"unknown event type"/);
    expect(err.message.length).toBeLessThan(250);
    expect(JSON.stringify([err.message, err.details])).not.toContain('sekrit-in-query');
    expect(sink.requests.at(-1)!.headers['x-anchorflow-signature']).toBeUndefined();
  });

  it('treats a refused connection as transient and sends the body param (not the input) when given', async () => {
    const closed = await startHttpSink();
    const url = `${closed.url}/gone`;
    await closed.close();
    const run = await runWithRetries(webhookNode, { params: { url } }, 2);
    expect(run.errors.map((e) => [e.code, e.retryable, e.message])).toEqual([
      ['WEBHOOK_NETWORK', true, `webhook ${url} could not be reached: no response`],
      ['WEBHOOK_NETWORK', true, `webhook ${url} could not be reached: no response`],
    ]);
    sink.on('/body', [{ status: 204 }]);
    const r = await runNode(webhookNode, { outbound: LOOPBACK,  input: { ignored: true }, params: { url: `${sink.url}/body`, body: '=$.missing ? 1 : {"fixed": [1, 2]}' } });
    expect(r.kind === 'output' && r.outputs.main).toMatchObject({ status: 'sent', httpStatus: 204 });
    expect(sink.requests.at(-1)!.json).toEqual({ fixed: [1, 2] });
  });

  it('rejects a bad URL, header or credential type before sending', async () => {
    expect(credentialParamsOf(paramsJsonSchema(WebhookParams))).toEqual({ credential: 'hmac-secret' });
    await expect(runNode(webhookNode, { outbound: LOOPBACK,  params: { url: 'ftp://x.test/' } })).rejects.toThrow(/\$\.url url must use http or https, not ftp/);
    await expect(runNode(webhookNode, { outbound: LOOPBACK,  params: { url: 'http://x.test/', headers: { 'x-a': 'b\r\nInjected: 1' } } })).rejects.toThrow(/must not contain CR, LF or NUL/);
    await expect(runNode(webhookNode, { outbound: LOOPBACK,  credentials: { smtp: { host: 'h', port: 25, security: 'none', from: 'a@b.co' } }, params: { url: 'http://x.test/', credential: 'smtp' } })).rejects.toMatchObject({
      code: 'CREDENTIAL_INVALID',
      message: expect.stringContaining('is not a valid hmac-secret credential: unknown field "host"'),
    });
  });
});
