import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FailoverRpc, RpcAnswerError } from './rpc.js';

/** a JSON-RPC node on loopback that records what it was asked and answers as `answer` says */
let server: Server;
let url: string;
const asked: Array<{ method: string; params: unknown }> = [];
let answer: (method: string, params: unknown) => { status?: number; body: string };

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c));
    req.on('end', () => {
      const { id, method, params } = JSON.parse(raw) as { id: number; method: string; params: unknown };
      asked.push({ method, params });
      const { status = 200, body } = answer(method, params);
      res.writeHead(status, { 'content-type': 'application/json' }).end(body.replace('"ID"', String(id)));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/rpc`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('FailoverRpc', () => {
  it('sends params by name (Casper) as well as by position (EVM) and returns the result', async () => {
    answer = (method, params) => ({ body: JSON.stringify({ jsonrpc: '2.0', id: 'ID', result: { method, params } }) });
    const rpc = new FailoverRpc([url]);
    expect(await rpc.call('chain_get_block', { block_identifier: { Hash: 'ab' } })).toEqual({ method: 'chain_get_block', params: { block_identifier: { Hash: 'ab' } } });
    expect(await rpc.call('eth_blockNumber', [])).toEqual({ method: 'eth_blockNumber', params: [] });
    expect(asked.slice(-2).map((a) => a.params)).toEqual([{ block_identifier: { Hash: 'ab' } }, []]);
  });

  it("throws the node's error answer as RpcAnswerError with its code and data, without failing over", async () => {
    answer = () => ({ body: JSON.stringify({ jsonrpc: '2.0', id: 1, error: { code: -32001, message: 'No such block', data: 'block ab is not known to this node' } }) });
    const failovers: string[] = [];
    const rpc = new FailoverRpc([url, 'http://127.0.0.1:9/rpc'], { onFailover: (from) => failovers.push(from) });
    const err = await rpc.call('chain_get_block', { block_identifier: { Hash: 'ab' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcAnswerError);
    expect(err).toMatchObject({ url, code: -32001, message: 'chain_get_block: No such block', data: 'block ab is not known to this node' });
    expect(failovers).toEqual([]);
  });

  it('names the URL and the HTTP status when the answer is not JSON', async () => {
    answer = () => ({ status: 502, body: '<html>bad gateway</html>' });
    const err = (await new FailoverRpc([url]).call('info_get_status', []).catch((e: unknown) => e)) as Error;
    expect(err).not.toBeInstanceOf(RpcAnswerError);
    expect(err.message).toBe(`every RPC URL failed for info_get_status; last: ${url}: HTTP 502: answer is not JSON (<html>bad gateway</html>)`);
  });
});
