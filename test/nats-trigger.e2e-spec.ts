/**
 * core.trigger.nats against a real daemon and NATS (issue 11): each message on the subject starts one
 * execution with {subject, data, headers}; with `durable` the messages published while the daemon is
 * SIGKILLed are all started after it comes back (none lost, none twice). Without NATS the node type is
 * marked `requires: cluster` in the catalog and activation is refused with a clear error.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { connect, headers as natsHeaders, type NatsConnection } from 'nats';
import { Api, listItems, type Execution } from './support/api.js';
import { startDaemon, type Daemon } from './support/daemon.js';
import { chain, node, uid, workflow } from './support/graph.js';
import { until } from './support/until.js';
import { type NatsTestServer, natsForTests, reportSkip, uniquePrefix } from '../libs/transport/src/nats/spec-support/nats-test-server.js';

const daemons: Daemon[] = [];
let nc: NatsConnection | undefined;
const nats = await natsForTests('nats-trigger');
if ('skip' in nats) reportSkip('core.trigger.nats', nats.skip);

afterAll(async () => {
  await Promise.all(daemons.map((d) => (d.hasExited() ? undefined : d.stop())));
  await nc?.close();
  if (!('skip' in nats)) await nats.close();
});

async function executionsOf(api: Api, workflowId: string): Promise<Execution[]> {
  const res = await api.get(`/api/v1/executions?workflowId=${workflowId}&limit=100`);
  expect(res.status).toBe(200);
  return Promise.all(listItems<Execution>(res.body).map((e) => api.getExecution(e.id)));
}
const listening = (d: Daemon, n: number) => until(`the trigger listening (${n})`, async () => (d.logs().split('"event":"nats-trigger.listening"').length > n ? true : undefined), 30_000);

('skip' in nats ? describe.skip : describe)('core.trigger.nats in cluster mode', () => {
  it('starts one execution per message; durable messages published while the daemon was down are all started after it returns', async () => {
    const server = nats as NatsTestServer;
    const prefix = uniquePrefix('natstrig');
    const env = { NATS_URL: server.url, ANCHORFLOW_NATS_PREFIX: prefix, ANCHORFLOW_WORKERS_DISCOVERY_WINDOW_MS: '300', ANCHORFLOW_CLUSTER_LEASE_MS: '2000' };
    const first = await startDaemon({ name: 'nats-trigger', env });
    daemons.push(first);
    const api = new Api(first.url);
    const subject = `${prefix}.orders.>`;
    const wf = await api.createWorkflow(workflow(`nats ${uid()}`, [node('in', 'core.trigger.nats', { subject }), node('done', 'core.noop')], chain('in', 'done')));
    await api.activate(wf.id);
    await listening(first, 1);

    nc = await connect({ servers: server.url });
    const h = natsHeaders();
    h.append('x-trace', 't-1');
    nc.publish(`${prefix}.orders.eu`, new TextEncoder().encode(JSON.stringify({ id: 1 })), { headers: h });
    await nc.flush();
    const [one] = await until('the first message started an execution', async () => {
      const list = await executionsOf(api, wf.id);
      return list.length === 1 && list[0]!.status === 'succeeded' ? list : undefined;
    }, 20_000);
    expect(one!.input).toEqual({ subject: `${prefix}.orders.eu`, data: { id: 1 }, headers: { 'x-trace': ['t-1'] } });

    // every daemon down: the messages wait in JetStream
    await first.kill();
    for (const body of ['{"id":2}', '{"id":3}', 'not json']) nc.publish(`${prefix}.orders.us`, new TextEncoder().encode(body));
    await nc.flush();
    const second = await startDaemon({ name: 'nats-trigger', dataDir: first.dataDir, databaseUrl: first.databaseUrl, env });
    daemons.push(second);
    const api2 = new Api(second.url);
    const all = await until('the three messages sent during the downtime started', async () => {
      const list = await executionsOf(api2, wf.id);
      return list.length >= 4 && list.every((e) => e.status === 'succeeded') ? list : undefined;
    }, 30_000);
    const data = all.map((e) => (e.input as { data: unknown }).data);
    expect(data).toHaveLength(4);
    expect(data).toEqual(expect.arrayContaining([{ id: 1 }, { id: 2 }, { id: 3 }, 'not json']));

  }, 180_000);
});

describe('core.trigger.nats without NATS', () => {
  it('the catalog marks it cluster-only, and activation is refused naming what to configure', async () => {
    const d = await startDaemon({ name: 'nats-trigger-single', env: { NATS_URL: undefined } });
    daemons.push(d);
    const api = new Api(d.url);
    const types = await api.get<{ items: Array<{ type: string; requires?: string; description?: string }> }>('/api/v1/node-types');
    expect(types.body.items.find((t) => t.type === 'core.trigger.nats')).toMatchObject({ requires: 'cluster', description: expect.stringContaining('cluster mode only') });
    const wf = await api.createWorkflow(workflow(`nats single ${uid()}`, [node('in', 'core.trigger.nats', { subject: 'orders.created' }), node('done', 'core.noop')], chain('in', 'done')));
    const res = await api.post(`/api/v1/workflows/${wf.id}/activate`);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('needs cluster mode');
    expect(res.body.error.message).toContain('nats.url');
    expect((await api.getWorkflow(wf.id)).active).toBe(false);
  }, 120_000);
});
