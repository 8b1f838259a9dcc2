/**
 * Webhook calls and the request log: with log.requests on they get their HTTP line like any request; with
 * it off they skip pino-http altogether (its per-request child logger was 5 % of a webhook's CPU), and the
 * lines about the execution they start still carry the request's id.
 */
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from '@jest/globals';
import corePlugin from '@anchorflow/plugin-core';
import { defineNode, definePlugin } from '@anchorflow/plugin-sdk';
import request from 'supertest';
import { createMemoryApp, type MemoryApp } from '../testing/memory-app.js';
import { LogConfig } from '../config/config.schema.js';
import { createRootLogger } from './logger.js';

class NoParams {}

const chattyNode = defineNode<NoParams>({
  type: 'hooklog.chatty',
  version: 1,
  title: 'Chatty',
  category: 'action',
  inputs: ['main'],
  outputs: ['main'],
  params: NoParams,
  async execute(ctx, input) {
    ctx.logger.info('chatty did its thing');
    return { main: input };
  },
});

let m: MemoryApp | undefined;
afterEach(async () => {
  await m?.close();
  m = undefined;
});

async function callHook(requests: boolean): Promise<{ lines: Array<Record<string, unknown>>; reqId: string; executionId: string }> {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const config: LogConfig = Object.assign(new LogConfig(), { level: 'info', pretty: false, requests });
  m = await createMemoryApp({
    env: { ANCHORFLOW_LOG_REQUESTS: String(requests) },
    logger: createRootLogger(config, sink),
    plugins: [corePlugin, definePlugin({ name: '@acme/hook-log-test', version: '1.0.0', nodes: [chattyNode] })],
  });
  const http = request(m.app.getHttpServer());
  const auth = { Authorization: `Bearer ${m.adminKey}` };
  const wf = await http.post('/api/v1/workflows').set(auth).send({
    name: 'hook log',
    nodes: [{ id: 'hook', type: 'core.trigger.webhook', params: { path: 'hook-log', method: 'POST', respond: 'lastNode', publicOutput: true } }, { id: 'talk', type: 'hooklog.chatty' }],
    edges: [{ from: 'hook', to: 'talk' }],
  }).expect(201);
  await http.post(`/api/v1/workflows/${wf.body.id}/activate`).set(auth).expect(200);
  const res = await http.post('/hooks/hook-log').send({ a: 1 }).expect(200);
  return { lines, reqId: res.headers['x-request-id'] as string, executionId: res.headers['x-anchorflow-execution-id'] as string };
}

describe('webhook calls in the log', () => {
  it('with request logging on: the call has its HTTP line', async () => {
    const { lines, reqId } = await callHook(true);
    // pino-http writes the line when the server side of the response finishes, which can be just after
    // the client has read the answer: wait for it (bounded) instead of reading the log once
    const httpLine = () => lines.find((l) => l.reqId === reqId && (l.req as { url?: string } | undefined)?.url === '/hooks/hook-log');
    for (let i = 0; i < 100 && !httpLine(); i++) await new Promise((r) => setTimeout(r, 20));
    expect(httpLine()).toMatchObject({ res: { statusCode: 200 } });
  });

  it('with request logging off: no HTTP line, and the execution’s lines still carry the request id', async () => {
    const { lines, reqId, executionId } = await callHook(false);
    expect(reqId).toMatch(/^[0-9a-f-]{36}$/);
    expect(lines.some((l) => (l.req as { url?: string } | undefined)?.url === '/hooks/hook-log')).toBe(false);
    expect(lines.find((l) => l.msg === 'chatty did its thing')).toMatchObject({ executionId, nodeId: 'talk', reqId });
  });
});
