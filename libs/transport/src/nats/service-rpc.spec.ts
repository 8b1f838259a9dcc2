/**
 * The service RPC (plugin services in workers reaching the daemons' ports) for append-only logs, over a
 * real NATS: a worker-side `state.log(...)` appends, reads and conflicts exactly as the daemon's own.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NatsConnection } from 'nats';
import { MemoryNamedLeases } from '@anchorflow/engine';
import { MemoryPluginState } from '@anchorflow/plugin-sdk/testing';
import { connectNats } from './connection.js';
import { encodeMessage, decodeRpcReply } from './messages.js';
import { decodeServiceRpcRequest, remoteServicePorts, serveServiceRpc } from './service-rpc.js';
import { natsNames } from './subjects.js';
import { type NatsTestServer, natsForTests, reportSkip } from './spec-support/nats-test-server.js';

const server = await natsForTests('service-rpc');
if ('skip' in server) reportSkip('service RPC (real NATS)', server.skip);
const describeNats = 'skip' in server ? describe.skip : describe;
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

describeNats('service RPC: append-only logs of services in workers', () => {
  const s = server as NatsTestServer;
  let nc: NatsConnection;
  const states = new Map<string, MemoryPluginState>();
  let served: { stop(): void };

  beforeAll(async () => {
    nc = await connectNats({ url: s.url, reconnectTimeWaitMs: 100 });
    const names = natsNames(s.prefix);
    served = serveServiceRpc({
      nc, names, logger: quiet,
      handlers: {
        state: (p) => states.get(p) ?? (states.set(p, new MemoryPluginState()), states.get(p)!),
        leases: new MemoryNamedLeases(),
        resume: async () => false,
        credentials: { get: async () => ({}) as never },
      },
    });
    await nc.flush();
  });
  afterAll(async () => {
    served?.stop();
    await nc?.drain();
    await s.close();
  });

  it('appends with a checkpoint, reads from a position, and refuses a stale expected length with LOG_CONFLICT', async () => {
    const remote = remoteServicePorts({ nc, names: natsNames(s.prefix), timeoutMs: 5_000 }).state('@demo/plugin');
    const log = remote.log<{ n: number }>('obs/x');
    expect(await log.append([{ n: 0 }, { n: 1 }], { expectedLength: 0, checkpoint: { cursor: { next: 2 } } })).toBe(2);
    expect(await log.length()).toBe(2);
    expect(await log.read({ from: 1 })).toEqual([{ pos: 1, value: { n: 1 } }]);
    expect(await remote.get('cursor')).toEqual({ next: 2 });
    await expect(log.append([{ n: 9 }], { expectedLength: 1 })).rejects.toMatchObject({ code: 'LOG_CONFLICT' });
    // what the daemon side holds
    expect(await states.get('@demo/plugin')!.log('obs/x').read()).toEqual([{ pos: 0, value: { n: 0 } }, { pos: 1, value: { n: 1 } }]);
  });

  it('rejects malformed log requests, naming the field', async () => {
    const bad = (body: object) => decodeServiceRpcRequest(encodeMessage({ v: 1, op: 'log', plugin: 'p', stream: 's', ...body }));
    expect(bad({ action: 'append', entries: 'x' })).toEqual({ ok: false, reason: 'service request (log append): entries must be a list' });
    expect(bad({ action: 'read', from: -1 })).toEqual({ ok: false, reason: 'service request (log read): from must be a non-negative integer' });
    expect(bad({ action: 'truncate' })).toEqual({ ok: false, reason: 'service request (log truncate): action must be append, read or length' });
    const reply = await nc.request(natsNames(s.prefix).servicesRpc, encodeMessage({ v: 1, op: 'log', plugin: 'p', stream: '', action: 'length' }), { timeout: 5_000 });
    const decoded = decodeRpcReply(reply.data);
    expect(decoded.ok && decoded.value).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST', message: 'service request (log length): stream must be a non-empty string' } });
  });
});
