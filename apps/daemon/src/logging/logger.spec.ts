import { describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pinoHttp } from 'pino-http';
import { createRootLogger, httpLoggingOptions, redactUrl } from './logger.js';

describe('request logging (issue 17)', () => {
  it('redacts query values and resume tokens in URLs', () => {
    expect(redactUrl('/api/v1/executions/resume/tok_123?wait=5000')).toBe('/api/v1/executions/resume/***?wait=***');
    expect(redactUrl('/hooks/orders?token=s3cret&x')).toBe('/hooks/orders?token=***&x');
    expect(redactUrl('/api/v1/workflows/w1')).toBe('/api/v1/workflows/w1');
  });

  it('logs a server-generated request id (the client id kept apart) and no secrets from the URL', async () => {
    const lines: Array<Record<string, any>> = [];
    const sink = new Writable({ write: (chunk, _enc, cb) => (lines.push(JSON.parse(String(chunk))), cb()) });
    const logger = createRootLogger({ level: 'info', pretty: false, requests: true }, sink);
    const log = pinoHttp(httpLoggingOptions(logger, { level: 'info', pretty: false, requests: true }));
    const server = createServer((req, res) => {
      log(req, res);
      res.end('ok');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/executions/resume/tok_secret?token=q_secret`, { method: 'POST', headers: { 'x-request-id': 'client-chosen' } });
      await res.text();
      const id = res.headers.get('x-request-id');
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      await new Promise((r) => setImmediate(r));
      const line = lines.find((l) => l.req)!;
      expect(line).toMatchObject({ reqId: id, clientRequestId: 'client-chosen', req: { url: '/api/v1/executions/resume/***?token=***' } });
      expect(JSON.stringify(lines)).not.toMatch(/tok_secret|q_secret/);
    } finally {
      server.close();
    }
  });
});
