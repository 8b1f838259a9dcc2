/**
 * The webhook fast path (JSON or empty bodies, served in front of Express) and the Express route (every other
 * body) must be one behaviour: same headers, same answers, same errors, one rate-limit counter.
 */
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import corePlugin from '@anchorflow/plugin-core';
import request from 'supertest';
import { createMemoryApp, type MemoryApp } from '../testing/memory-app.js';
import { HooksEndpoint, HookRateLimiter, parseByteLimit } from './hooks-endpoint.js';

let app: MemoryApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function echoApp(env: Record<string, string> = {}): Promise<{ http: ReturnType<typeof request>; m: MemoryApp }> {
  const m = await createMemoryApp({ env, plugins: [corePlugin] });
  app = m;
  const http = request(m.app.getHttpServer());
  const auth = { Authorization: `Bearer ${m.adminKey}` };
  const wf = await http.post('/api/v1/workflows').set(auth).send({
    name: 'echo',
    nodes: [
      { id: 'hook', type: 'core.trigger.webhook', params: { path: 'echo', method: 'POST', respond: 'lastNode', publicOutput: true, include: 'request' } },
      { id: 'mark', type: 'core.set', params: { fields: { marked: true } } },
    ],
    edges: [{ from: 'hook', to: 'mark' }],
  }).expect(201);
  await http.post(`/api/v1/workflows/${wf.body.id}/activate`).set(auth).expect(200);
  return { http: request(m.app.getHttpServer()), m };
}

/** the names of the headers every answer carries (values like dates and ids differ) */
const headerNames = (headers: Record<string, unknown>): string[] =>
  Object.keys(headers).filter((h) => !['date', 'etag', 'content-length', 'connection', 'keep-alive', 'x-anchorflow-execution-id'].includes(h)).sort();

describe('webhook calls: fast path and Express route', () => {
  it('a JSON call takes the fast path, a text call the Express route; both answer alike', async () => {
    const { http, m } = await echoApp();
    const endpoint = m.app.get(HooksEndpoint);
    const fast = jest.spyOn(endpoint, 'fast');
    const json = await http.post('/hooks/echo?x=1&x=2&y=z').send({ a: 1 }).expect(200);
    expect(fast).toHaveBeenCalledTimes(1);
    const text = await http.post('/hooks/echo?x=1&x=2&y=z').set('Content-Type', 'text/plain').send('hello').expect(200);
    expect(fast).toHaveBeenCalledTimes(1);

    expect(json.body).toMatchObject({ marked: true, body: { a: 1 }, query: { x: ['1', '2'], y: 'z' }, method: 'POST' });
    expect(text.body).toMatchObject({ marked: true, body: 'hello', query: { x: ['1', '2'], y: 'z' }, method: 'POST' });
    expect(json.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(json.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(json.headers['x-anchorflow-execution-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(json.headers['content-security-policy']).toBe(text.headers['content-security-policy']);
    expect(headerNames(json.headers)).toEqual(headerNames(text.headers));
  });

  it('errors answer the same body on both paths: unknown hook, malformed JSON, too deep, too large', async () => {
    const { http } = await echoApp({ ANCHORFLOW_HTTP_BODY_LIMIT: '1kb', ANCHORFLOW_HTTP_MAX_JSON_DEPTH: '5' });
    const missing = await http.post('/hooks/nope').send({}).expect(404);
    const missingText = await http.post('/hooks/nope').set('Content-Type', 'text/plain').send('x').expect(404);
    expect(missing.body).toEqual(missingText.body);
    expect(missing.body.error.code).toBe('NOT_FOUND');

    const malformed = await http.post('/hooks/echo').set('Content-Type', 'application/json').send('{"a":').expect(400);
    expect(malformed.body.error.code).toBe('MALFORMED_JSON');
    const scalar = await http.post('/hooks/echo').set('Content-Type', 'application/json').send('42').expect(400);
    expect(scalar.body.error.code).toBe('MALFORMED_JSON');
    const deep = await http.post('/hooks/echo').set('Content-Type', 'application/json').send('[[[[[[[1]]]]]]]').expect(400);
    expect(deep.body.error).toMatchObject({ code: 'JSON_TOO_DEEP', details: { maxDepth: 5 } });
    const large = await http.post('/hooks/echo').set('Content-Type', 'application/json').send(JSON.stringify({ pad: 'x'.repeat(2000) })).expect(413);
    const largeText = await http.post('/hooks/echo').set('Content-Type', 'text/plain').send('x'.repeat(2000)).expect(413);
    expect(large.body.error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', details: { limit: 1024 } });
    expect(largeText.body.error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', details: { limit: 1024 } });
    // the daemon still serves
    await http.post('/hooks/echo').send({ ok: 1 }).expect(200);
  });

  it('an empty JSON body is {}, no body at all is none', async () => {
    const { http } = await echoApp();
    const empty = await http.post('/hooks/echo').set('Content-Type', 'application/json').set('Content-Length', '0').expect(200);
    expect(empty.body.body).toEqual({});
    const none = await http.post('/hooks/echo').expect(200);
    expect(none.body.body).toBeNull();
  });

  it('one rate-limit counter for both paths, 429 with Retry-After past it', async () => {
    const { http } = await echoApp({ ANCHORFLOW_SECURITY_RATE_LIMIT_HOOKS_LIMIT: '3', ANCHORFLOW_SECURITY_RATE_LIMIT_HOOKS_TTL_MS: '60000' });
    const first = await http.post('/hooks/echo').send({}).expect(200);
    expect(first.headers['x-ratelimit-limit']).toBe('3');
    expect(first.headers['x-ratelimit-remaining']).toBe('2');
    await http.post('/hooks/echo').set('Content-Type', 'text/plain').send('x').expect(200);
    await http.post('/hooks/echo').send({}).expect(200);
    const limitedText = await http.post('/hooks/echo').set('Content-Type', 'text/plain').send('x').expect(429);
    const limited = await http.post('/hooks/echo').send({}).expect(429);
    for (const res of [limited, limitedText]) {
      expect(res.body.error.code).toBe('TOO_MANY_REQUESTS');
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    }
  });
});

describe('HookRateLimiter', () => {
  it('counts per client in windows of ttlMs', () => {
    let now = 0;
    const limiter = new HookRateLimiter(2, 1000, () => now);
    const res = { setHeader: () => undefined };
    limiter.hit('a', res);
    limiter.hit('a', res);
    expect(() => limiter.hit('a', res)).toThrow(/too many requests/);
    limiter.hit('b', res);
    now = 1000;
    expect(() => limiter.hit('a', res)).not.toThrow();
  });
});

describe('parseByteLimit', () => {
  it('reads http.bodyLimit like body-parser', () => {
    expect(parseByteLimit('1mb')).toBe(1_048_576);
    expect(parseByteLimit('512kb')).toBe(524_288);
    expect(parseByteLimit('100')).toBe(100);
    expect(parseByteLimit('1.5 KB')).toBe(1536);
  });
});
