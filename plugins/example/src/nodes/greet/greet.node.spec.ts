import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TransientNodeError } from '@anchorflow/plugin-sdk';
import { MemoryPluginState, runNode } from '@anchorflow/plugin-sdk/testing';
import plugin from '../../index.js';
import { greetNode } from './greet.node.js';
import { nextTickNode } from '../next-tick/next-tick.node.js';

describe('example.greet', () => {
  let server: Server;
  let url: string;
  const received: Array<{ key: string; body: unknown }> = [];
  let status = 200;

  beforeAll(async () => {
    // a real HTTP receiver on loopback
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ key: String(req.headers['idempotency-key']), body: JSON.parse(body) });
        res.statusCode = status;
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/greetings`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('greets with the default greeting and evaluates =expressions in params', async () => {
    const result = await runNode(greetNode, { params: { name: '=$.customer.name' }, input: { customer: { name: 'Ada' } } });
    expect(result).toMatchObject({ kind: 'output', outputs: { main: { message: 'Hello, Ada!', times: 1 } } });
  });

  it('counts greetings per name in plugin state', async () => {
    const state = new MemoryPluginState();
    await runNode(greetNode, { params: { name: 'Ada' }, state });
    const second = await runNode(greetNode, { params: { name: 'Ada', greeting: 'Welcome' }, state });
    expect(second).toMatchObject({ outputs: { main: { message: 'Welcome, Ada!', times: 2 } } });
  });

  it('rejects invalid params with a path per problem', async () => {
    await expect(runNode(greetNode, { params: { greeting: 'Yo', extra: 1 } })).rejects.toMatchObject({
      code: 'INVALID_PARAMS',
      details: expect.arrayContaining([
        expect.objectContaining({ path: '$.name' }),
        expect.objectContaining({ path: '$.greeting' }),
        expect.objectContaining({ path: '$.extra', message: 'unknown param "extra"' }),
      ]),
    });
  });

  it('tells the receiver with the idempotency key, and reports a 5xx as transient (retried)', async () => {
    const ok = await runNode(greetNode, { outbound: { allowHosts: ['127.0.0.1'] }, params: { name: 'Bob', notifyUrl: url }, input: { id: 1 }, idempotencyKey: 'exec-1:greet' });
    expect(ok).toMatchObject({ outputs: { main: { message: 'Hello, Bob!' } }, logs: [{ level: 'info', msg: 'greeting delivered' }] });
    expect(received).toEqual([{ key: 'exec-1:greet', body: { message: 'Hello, Bob!', input: { id: 1 } } }]);
    status = 503;
    await expect(runNode(greetNode, { outbound: { allowHosts: ['127.0.0.1'] }, params: { name: 'Bob', notifyUrl: url } })).rejects.toBeInstanceOf(TransientNodeError);
    status = 200;
  });

  it('is exported as a plugin the loader accepts', () => {
    expect(plugin).toMatchObject({ name: '@anchorflow/plugin-example', nodes: [greetNode, nextTickNode] });
  });
});
