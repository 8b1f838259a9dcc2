/**
 * One execution's story can be grepped: the request that starts it, the engine's lines about it and its
 * nodes' own lines all carry its id, and the request's lines a server-generated request id.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import corePlugin from '@anchorflow/plugin-core';
import { defineNode, definePlugin } from '@anchorflow/plugin-sdk';
import request from 'supertest';
import { createMemoryApp, type MemoryApp } from '../testing/memory-app.js';
import { LogConfig } from '../config/config.schema.js';
import { createRootLogger } from './logger.js';

class NoParams {}

const chattyNode = defineNode<NoParams>({
  type: 'logtest.chatty',
  version: 1,
  title: 'Chatty',
  category: 'action',
  inputs: ['main'],
  outputs: ['main'],
  params: NoParams,
  async execute(ctx, input) {
    ctx.logger.info('chatty did its thing', { items: 3 });
    return { main: input };
  },
});

const lines: Array<Record<string, unknown>> = [];
let m: MemoryApp;

beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const config: LogConfig = Object.assign(new LogConfig(), { level: 'info', pretty: false, requests: true });
  const logger = createRootLogger(config, sink);
  m = await createMemoryApp({ logger, plugins: [corePlugin, definePlugin({ name: '@acme/log-test', version: '1.0.0', nodes: [chattyNode] })] });
});

afterAll(async () => {
  await m?.close();
});

describe('execution logs', () => {
  it('carry the execution id on every line about it, the node id on node lines, and the request id of the request that started it', async () => {
    const http = request(m.app.getHttpServer());
    const auth = { Authorization: `Bearer ${m.adminKey}` };
    const wf = await http.post('/api/v1/workflows').set(auth).send({
      name: 'chatty', nodes: [{ id: 'start', type: 'core.trigger.manual' }, { id: 'talk', type: 'logtest.chatty' }], edges: [{ from: 'start', to: 'talk' }],
    }).expect(201);
    const run = await http.post(`/api/v1/workflows/${wf.body.id}/executions?wait=5000`).set(auth).set('X-Request-Id', 'client-chosen-id').send({ input: { a: 1 } }).expect(200);
    const executionId = run.body.id as string;
    const reqId = run.headers['x-request-id'] as string;
    // ours, not the client's
    expect(reqId).toMatch(/^[0-9a-f-]{36}$/);

    const about = lines.filter((l) => JSON.stringify(l).includes(executionId));
    const messages = about.map((l) => l.msg);
    expect(messages).toEqual(expect.arrayContaining(['execution started', 'chatty did its thing', 'execution succeeded']));
    for (const line of about) expect({ msg: line.msg, executionId: line.executionId }).toEqual({ msg: line.msg, executionId });
    expect(about.find((l) => l.msg === 'chatty did its thing')).toMatchObject({ nodeId: 'talk', nodeType: 'logtest.chatty', attempt: 1, items: 3, reqId });
    expect(about.find((l) => l.msg === 'execution started')).toMatchObject({ reqId, workflowId: wf.body.id });

    // the HTTP line of that request: same id, the client's kept apart
    const httpLine = lines.find((l) => l.reqId === reqId && (l.res as { statusCode?: number } | undefined)?.statusCode === 200);
    expect(httpLine).toMatchObject({ clientRequestId: 'client-chosen-id' });
    expect(lines.some((l) => l.reqId === 'client-chosen-id')).toBe(false);
  });
});
