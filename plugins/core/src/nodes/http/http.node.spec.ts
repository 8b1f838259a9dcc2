import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { NodeError, paramsJsonSchema, TransientNodeError, validateParams } from '@anchorflow/plugin-sdk';
import { runNode } from '@anchorflow/plugin-sdk/testing';
import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BODY_EXCERPT_CHARS, httpNode, MAX_RESPONSE_BYTES } from './http.node.js';
import { HttpParams } from './http.params.js';

interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A real receiver on loopback; `/hang` never answers and announces itself on `arrivals`. */
async function startReceiver(): Promise<{ server: Server; base: string; received: Received[]; arrivals: EventEmitter }> {
  const received: Received[] = [];
  const arrivals = new EventEmitter();
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url!, 'http://receiver');
    const entry = { method: req.method!, path: url.pathname, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
    received.push(entry);
    const status = /^\/status\/(\d{3})$/.exec(url.pathname);
    if (status) {
      res.writeHead(Number(status[1]), { 'content-type': 'text/plain', 'retry-after': '2' });
      res.end('x'.repeat(10_000));
      return;
    }
    switch (url.pathname) {
      case '/json':
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'x-trace': 'abc' });
        res.end(JSON.stringify({ ok: true, items: [1, 2] }));
        return;
      case '/text':
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('hello');
        return;
      case '/echo':
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify(entry));
        return;
      case '/untyped':
        res.end('{"sniffed":true}');
        return;
      case '/bad-json':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{oops');
        return;
      case '/empty':
        res.writeHead(204);
        res.end();
        return;
      case '/cookies':
        res.writeHead(200, [['set-cookie', 'a=1; Expires=Wed, 21 Oct 2037 07:28:00 GMT'], ['set-cookie', 'b=2'], ['content-type', 'text/plain']]);
        res.end('ok');
        return;
      case '/huge':
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(Buffer.alloc(MAX_RESPONSE_BYTES + 1, 97));
        return;
      case '/hang':
        arrivals.emit('hang');
        return;
      default:
        res.writeHead(404);
        res.end('no such route');
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received, arrivals };
}

/** the receivers of these tests listen on loopback, which ctx.fetch refuses unless allow-listed */
const LOOPBACK = { allowHosts: ['127.0.0.1'] };

async function failure(promise: Promise<unknown>): Promise<NodeError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof NodeError)) throw new Error(`expected a NodeError, got ${String(err)}`);
  return err;
}

describe('core.http against a real HTTP receiver', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(async () => {
    receiver.server.closeAllConnections();
    receiver.server.close();
    await once(receiver.server, 'close');
  });
  const url = (path: string) => `${receiver.base}${path}`;
  const lastReceived = () => receiver.received[receiver.received.length - 1]!;

  it('is a retried side effect', () => {
    expect(httpNode).toMatchObject({ type: 'core.http', version: 1, category: 'action', retry: { maxAttempts: 3, backoffMs: 500 } });
    expect(httpNode.pure).toBeFalsy();
  });

  it('emits status, headers and the parsed JSON body of a 2xx', async () => {
    const result = await runNode(httpNode, { outbound: LOOPBACK, params: { url: url('/json') } });
    expect(result).toMatchObject({
      kind: 'output',
      outputs: { main: { status: 200, headers: { 'content-type': 'application/json; charset=utf-8', 'x-trace': 'abc' }, body: { ok: true, items: [1, 2] } } },
    });
    expect(lastReceived().method).toBe('GET');
  });

  it('emits a text body as a string', async () => {
    expect(await runNode(httpNode, { outbound: LOOPBACK, params: { url: url('/text') } })).toMatchObject({ outputs: { main: { status: 200, body: 'hello' } } });
  });

  it('sends the idempotency key of the node run, unless the user set one', async () => {
    await runNode(httpNode, { outbound: LOOPBACK, params: { url: url('/json') }, idempotencyKey: 'exec-7:notify' });
    expect(lastReceived().headers['idempotency-key']).toBe('exec-7:notify');
    await runNode(httpNode, { outbound: LOOPBACK, params: { url: url('/json'), headers: { 'Idempotency-Key': 'mine' } }, idempotencyKey: 'exec-7:notify' });
    expect(lastReceived().headers['idempotency-key']).toBe('mine');
  });

  it('sends an object body as JSON with a JSON content type, and custom headers', async () => {
    const result = await runNode(httpNode, {
      outbound: LOOPBACK,
      params: { method: 'POST', url: url('/echo'), headers: { 'X-Api-Key': 'k1' }, body: { order: 5, tags: ['a'] } },
    });
    expect(result).toMatchObject({ outputs: { main: { status: 201 } } });
    expect(lastReceived()).toMatchObject({ method: 'POST', body: '{"order":5,"tags":["a"]}', headers: { 'content-type': 'application/json', 'x-api-key': 'k1' } });
  });

  it('sends a string body as is and keeps a content type the user set', async () => {
    await runNode(httpNode, { outbound: LOOPBACK, params: { method: 'PUT', url: url('/echo'), body: 'a,b\n1,2', headers: { 'content-type': 'text/csv' } } });
    expect(lastReceived()).toMatchObject({ method: 'PUT', body: 'a,b\n1,2', headers: { 'content-type': 'text/csv' } });
    await runNode(httpNode, { outbound: LOOPBACK, params: { method: 'PATCH', url: url('/echo'), body: [1], headers: { 'Content-Type': 'application/merge-patch+json' } } });
    expect(lastReceived()).toMatchObject({ body: '[1]', headers: { 'content-type': 'application/merge-patch+json' } });
  });

  it('evaluates =expressions in the url, headers and body against the input', async () => {
    await runNode(httpNode, {
      outbound: LOOPBACK,
      params: { method: 'POST', url: `=${JSON.stringify(url('/echo'))} & "?id=" & id`, headers: { 'X-Id': '=$string(id)' }, body: { id: '=id' } },
      input: { id: 12 },
    });
    expect(lastReceived()).toMatchObject({ body: '{"id":12}', headers: { 'x-id': '12' } });
  });

  it('follows responseType', async () => {
    expect(await runNode(httpNode, { outbound: LOOPBACK, params: { url: url('/json'), responseType: 'text' } })).toMatchObject({ outputs: { main: { body: '{"ok":true,"items":[1,2]}' } } });
    expect(await runNode(httpNode, { outbound: LOOPBACK, params: { url: url('/untyped') } })).toMatchObject({ outputs: { main: { body: { sniffed: true } } } });
    expect(await runNode(httpNode, { outbound: LOOPBACK, params: { url: url('/untyped'), responseType: 'json' } })).toMatchObject({ outputs: { main: { body: { sniffed: true } } } });
    // auto never fails on a body that does not parse; json does, and for good
    expect(await runNode(httpNode, { outbound: LOOPBACK, params: { url: url('/bad-json') } })).toMatchObject({ outputs: { main: { body: '{oops' } } });
    const err = await failure(runNode(httpNode, { outbound: LOOPBACK, params: { url: url('/bad-json'), responseType: 'json' } }));
    expect(err).toMatchObject({ code: 'HTTP_INVALID_JSON', retryable: false });
    expect(await runNode(httpNode, { outbound: LOOPBACK, params: { url: url('/empty'), responseType: 'json' } })).toMatchObject({ outputs: { main: { status: 204, body: null } } });
  });

  it('keeps every set-cookie header', async () => {
    const result = await runNode(httpNode, { outbound: LOOPBACK, params: { url: url('/cookies') } });
    expect(result).toMatchObject({ outputs: { main: { headers: { 'set-cookie': ['a=1; Expires=Wed, 21 Oct 2037 07:28:00 GMT', 'b=2'] } } } });
  });

  it('fails for good on a 4xx, with the status and a bounded body excerpt', async () => {
    const err = await failure(runNode(httpNode, { outbound: LOOPBACK, params: { url: url('/status/404') + '?token=secret' } }));
    expect(err).not.toBeInstanceOf(TransientNodeError);
    expect(err).toMatchObject({ code: 'HTTP_4XX', retryable: false, details: { status: 404, method: 'GET' } });
    const body = (err.details as { body: string }).body;
    expect(body).toBe('x'.repeat(BODY_EXCERPT_CHARS));
    expect(err.message).toContain('404');
    expect(err.message + JSON.stringify(err.details)).not.toContain('secret');
  });

  it.each([500, 502, 503])('fails transiently (retryable) on %i', async (status) => {
    const err = await failure(runNode(httpNode, { outbound: LOOPBACK, params: { url: url(`/status/${status}`) } }));
    expect(err).toBeInstanceOf(TransientNodeError);
    expect(err).toMatchObject({ code: 'HTTP_5XX', retryable: true, details: { status } });
  });

  it('fails transiently on 429, passing Retry-After on', async () => {
    const err = await failure(runNode(httpNode, { outbound: LOOPBACK, params: { method: 'POST', url: url('/status/429'), body: {} } }));
    expect(err).toBeInstanceOf(TransientNodeError);
    expect(err).toMatchObject({ code: 'HTTP_429', retryable: true, details: { status: 429, retryAfter: '2' } });
  });

  it('fails transiently when nobody listens, without saying why (no port scanning through error texts)', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    await once(closed, 'close');
    const err = await failure(runNode(httpNode, { outbound: LOOPBACK, params: { url: `http://127.0.0.1:${port}/` } }));
    expect(err).toBeInstanceOf(TransientNodeError);
    expect(err).toMatchObject({ code: 'HTTP_NETWORK', retryable: true });
    expect(err.message).toBe(`GET http://127.0.0.1:${port}/ failed: no response`);
    expect(JSON.stringify(err.details) + err.message).not.toMatch(/ECONN|refused/i);
  });

  it('fails transiently with HTTP_TIMEOUT when the receiver does not answer in time', async () => {
    const started = Date.now();
    const err = await failure(runNode(httpNode, { outbound: LOOPBACK, params: { url: url('/hang'), timeoutMs: 50 } }));
    expect(err).toBeInstanceOf(TransientNodeError);
    expect(err).toMatchObject({ code: 'HTTP_TIMEOUT', retryable: true, details: { timeoutMs: 50 } });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('stops at once when the run is aborted, handing the abort reason back to the engine', async () => {
    const controller = new AbortController();
    const arrived = once(receiver.arrivals, 'hang');
    const run = runNode(httpNode, { outbound: LOOPBACK, params: { url: url('/hang'), timeoutMs: 60_000 }, signal: controller.signal });
    await arrived;
    const reason = new Error('execution cancelled');
    controller.abort(reason);
    await expect(run).rejects.toBe(reason);
  });

  it('does not send anything when already aborted', async () => {
    const before = receiver.received.length;
    await expect(runNode(httpNode, { outbound: LOOPBACK, params: { url: url('/json') }, signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    expect(receiver.received.length).toBe(before);
  });

  it('refuses a response too large to keep as output', async () => {
    const err = await failure(runNode(httpNode, { outbound: LOOPBACK, params: { url: url('/huge') } }));
    expect(err).toMatchObject({ code: 'HTTP_RESPONSE_TOO_LARGE', retryable: false });
  });
});

describe('core.http outbound guard (SSRF)', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let redirector: Server;
  let redirectBase: string;
  beforeAll(async () => {
    receiver = await startReceiver();
    // a "public" service (allow-listed by name below) that redirects into loopback
    redirector = createServer((req, res) => {
      res.writeHead(302, { location: `${receiver.base}/json` });
      res.end();
    });
    redirector.listen(0, '127.0.0.2');
    await once(redirector, 'listening');
    redirectBase = `http://127.0.0.2:${(redirector.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const s of [receiver.server, redirector]) {
      s.closeAllConnections();
      s.close();
      await once(s, 'close');
    }
  });

  it.each([
    ['loopback', () => `${receiver.base}/json`],
    ['localhost by name', () => receiver.base.replace('127.0.0.1', 'localhost') + '/json'],
    ['IPv6 loopback', () => `http://[::1]:${new URL(receiver.base).port}/json`],
    ['IPv4-mapped IPv6 loopback', () => `http://[::ffff:127.0.0.1]:${new URL(receiver.base).port}/json`],
    ['cloud metadata (link-local)', () => 'http://169.254.169.254/latest/meta-data/'],
    ['RFC 1918', () => 'http://10.0.0.1/'],
    ['RFC 1918 (192.168)', () => 'http://192.168.1.1/'],
    ['ULA', () => 'http://[fd00::1]/'],
    ['0.0.0.0', () => `http://0.0.0.0:${new URL(receiver.base).port}/json`],
  ])('refuses %s by default, before any byte is sent', async (_what, target) => {
    const before = receiver.received.length;
    const err = await failure(runNode(httpNode, { params: { url: target() } }));
    expect(err).toMatchObject({ code: 'OUTBOUND_BLOCKED', retryable: false });
    expect(err.message).toMatch(/blocked: it (is|resolves to) an? .*; an admin can allow it with outbound.allowHosts/);
    expect(receiver.received.length).toBe(before);
  });

  it('checks every redirect hop: an allow-listed host cannot bounce the request into loopback', async () => {
    const before = receiver.received.length;
    const err = await failure(runNode(httpNode, { params: { url: `${redirectBase}/go` }, outbound: { allowHosts: ['127.0.0.2'] } }));
    expect(err).toMatchObject({ code: 'OUTBOUND_BLOCKED' });
    expect(err.message).toContain('"127.0.0.1"');
    expect(receiver.received.length).toBe(before);
    // with both allowed, the redirect is followed
    expect(await runNode(httpNode, { params: { url: `${redirectBase}/go` }, outbound: { allowHosts: ['127.0.0.2', '127.0.0.1/32'] } })).toMatchObject({ outputs: { main: { status: 200 } } });
  });

  it("refuses the daemon's own ports on local addresses even when loopback is allowed", async () => {
    const port = Number(new URL(receiver.base).port);
    const err = await failure(runNode(httpNode, { params: { url: `${receiver.base}/json` }, outbound: { allowHosts: ['127.0.0.0/8'], ownPorts: [port] } }));
    expect(err).toMatchObject({ code: 'OUTBOUND_BLOCKED' });
    expect(err.message).toContain("daemon's own listeners");
  });

  it('allows by address or CIDR range', async () => {
    for (const allowHosts of [['127.0.0.1'], ['127.0.0.0/8'], ['::ffff:127.0.0.1']]) {
      expect(await runNode(httpNode, { params: { url: `${receiver.base}/json` }, outbound: { allowHosts } })).toMatchObject({ outputs: { main: { status: 200 } } });
    }
  });
});

describe('core.http params', () => {
  const paths = (params: unknown) => [...new Set(validateParams(HttpParams, params).problems.map((p) => p.path))];

  it('fills the defaults', () => {
    const { value, problems } = validateParams(HttpParams, { url: 'https://example.test/a' });
    expect(problems).toEqual([]);
    expect({ ...value }).toEqual({ url: 'https://example.test/a', method: 'GET', timeoutMs: 30_000, responseType: 'auto' });
  });

  it('requires an http(s) URL fetch can use', () => {
    expect(paths({})).toEqual(['$.url']);
    for (const bad of ['example.test/a', 'ftp://example.test/a', 'file:///etc/passwd', 'https://user:pw@example.test/', 'http://']) expect(paths({ url: bad })).toEqual(['$.url']);
    for (const good of ['http://localhost:8080/x', 'https://127.0.0.1/', 'http://my_service/', 'https://[::1]:9/']) expect(paths({ url: good })).toEqual([]);
  });

  it('checks method, headers, body, timeout and response type', async () => {
    const url = 'https://example.test/';
    expect(paths({ url, method: 'TRACE' })).toEqual(['$.method']);
    expect(paths({ url, headers: { 'Bad Name': 'x' } })).toEqual(['$.headers']);
    expect(paths({ url, headers: { 'X-Count': 5 } })).toEqual(['$.headers']);
    expect(paths({ url, headers: { 'X-Inject': 'a\r\nHost: evil' } })).toEqual(['$.headers']);
    expect(paths({ url, body: { a: 1 } })).toEqual(['$.body']);
    expect(paths({ url, method: 'HEAD', body: 'x' })).toEqual(['$.body']);
    expect(paths({ url, method: 'DELETE', body: { a: 1 } })).toEqual([]);
    expect(paths({ url, timeoutMs: 0 })).toEqual(['$.timeoutMs']);
    expect(paths({ url, timeoutMs: 300_001 })).toEqual(['$.timeoutMs']);
    expect(paths({ url, timeoutMs: 300_000 })).toEqual([]);
    expect(paths({ url, responseType: 'xml' })).toEqual(['$.responseType']);
    await expect(runNode(httpNode, { params: { url, method: 'GET', body: {} } })).rejects.toMatchObject({ code: 'INVALID_PARAMS', details: [expect.objectContaining({ path: '$.body', message: 'body cannot be sent with GET' })] });
  });

  it('describes its params for the editor', () => {
    const schema = paramsJsonSchema(HttpParams);
    expect(schema).toMatchObject({
      type: 'object',
      required: ['url'],
      additionalProperties: false,
      properties: {
        method: { enum: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'], default: 'GET' },
        url: { type: 'string', format: 'uri' },
        headers: { type: 'object', additionalProperties: { type: 'string' } },
        timeoutMs: { type: 'integer', minimum: 1, maximum: 300_000, default: 30_000 },
        responseType: { enum: ['auto', 'json', 'text'], default: 'auto' },
      },
    });
    expect(JSON.stringify(schema)).not.toContain('$ref');
  });
});
