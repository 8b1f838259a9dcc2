/** Shared by hook-logging-on/off.memory.spec.ts: a memory app with one webhook workflow and a captured log. */
import { Writable } from 'node:stream';
import corePlugin from '@anchorflow/plugin-core';
import { defineNode, definePlugin } from '@anchorflow/plugin-sdk';
import request from 'supertest';
import { createMemoryApp, type MemoryApp } from './memory-app.js';
import { LogConfig } from '../config/config.schema.js';
import { createRootLogger } from '../logging/logger.js';

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

/**
 * Starts an app whose log goes to a sink this returns, and calls one webhook. nestjs-pino keeps ONE pino-http
 * instance per process (made by the first app), so each request-logging setting gets its own spec file
 * (jest gives every file a fresh module registry): two apps with different settings in one file would share
 * the first one's request logger.
 */
export async function callHook(requests: boolean): Promise<{ app: MemoryApp; lines: Array<Record<string, unknown>>; reqId: string; executionId: string }> {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const config: LogConfig = Object.assign(new LogConfig(), { level: 'info', pretty: false, requests });
  const m = await createMemoryApp({
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
  return { app: m, lines, reqId: res.headers['x-request-id'] as string, executionId: res.headers['x-anchorflow-execution-id'] as string };
}

