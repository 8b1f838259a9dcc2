/**
 * Plugin services (issue 8) against real daemon processes, with the example plugin's ticker service and
 * its example.next-tick node (a node that suspends on a token the service resumes):
 * - the daemon is SIGKILLed while the node is suspended: after the restart the ticker wakes it, exactly
 *   once, and the execution finishes;
 * - two daemons on one PostgreSQL: the one-per-cluster ticker runs on exactly one (standby on the
 *   other, GET /api/v1/plugins) and moves to the other when its daemon is SIGKILLed;
 * - a bad pluginConfig section fails the plugin at start-up with the key named;
 * - in a plugin worker (cluster mode) the ticker runs too: it holds the lease, keeps its state and resumes
 *   the node through the daemons over NATS.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { Api, nodeRun } from './support/api.js';
import { REPO_ROOT, sharedDatabase, startDaemon, type Daemon } from './support/daemon.js';
import { currentRun } from './support/e2e-env.js';
import { chain, manual, node, uid, workflow } from './support/graph.js';
import { startWorker, type Worker } from './support/worker.js';
import { type NatsTestServer, natsForTests, reportSkip, uniquePrefix } from '../libs/transport/src/nats/spec-support/nats-test-server.js';
import { until } from './support/until.js';

const EXAMPLE = path.join(REPO_ROOT, 'plugins/example');
const daemons: Daemon[] = [];
const workers: Worker[] = [];

interface ServiceRow {
  plugin: string;
  name: string;
  scope: string;
  status: string;
  since: string;
  restarts: number;
  lastError?: { message: string };
}
interface PluginsBody {
  daemonId: string;
  items: Array<{ name?: string; status: string; code?: string; reason?: string }>;
  services: ServiceRow[];
}

/** a config file loading the example plugin with this config section */
function configFile(section: string): string {
  const dir = mkdtempSync(path.join(currentRun().runDir, 'services-config-'));
  const file = path.join(dir, 'anchorflow.yaml');
  writeFileSync(file, `plugins:\n  - '${EXAMPLE}'\npluginConfig:\n  example: ${section}\n`);
  return file;
}

async function daemonWith(name: string, section: string, options: { dataDir?: string; databaseUrl?: string } = {}): Promise<{ daemon: Daemon; api: Api }> {
  const daemon = await startDaemon({
    name,
    ...options,
    env: { ANCHORFLOW_CONFIG: configFile(section), ANCHORFLOW_CLUSTER_LEASE_MS: '2000', ANCHORFLOW_ENGINE_POLL_INTERVAL_MS: '500' },
  });
  daemons.push(daemon);
  return { daemon, api: new Api(daemon.url) };
}


async function ticker(api: Api): Promise<ServiceRow> {
  const res = await api.get<PluginsBody>('/api/v1/plugins');
  if (res.status !== 200) throw new Error(`GET /api/v1/plugins: HTTP ${res.status} ${res.text.slice(0, 300)}`);
  const row = res.body.services.find((s) => s.plugin === '@anchorflow/plugin-example' && s.name === 'ticker');
  if (!row) throw new Error(`no ticker service listed: ${JSON.stringify(res.body.services)}`);
  return row;
}

const tickFlow = (name: string) => workflow(name, [manual(), node('tick', 'example.next-tick')], chain('start', 'tick'));

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.kill()));
  await Promise.all(daemons.splice(0).map((d) => (d.hasExited() ? undefined : d.stop().catch(() => d.kill()))));
});

describe('plugin services', () => {
  it('a node suspended for the ticker when the daemon is SIGKILLed is resumed exactly once after the restart', async () => {
    // the first daemon never ticks within the test: the node is still suspended at the kill
    const { daemon: first, api: api1 } = await daemonWith('ticker-crash', '{ tickIntervalMs: 3600000 }');
    // one-per-cluster: running once its lease is taken (the first renewal round after start)
    const row = await until('the ticker running', async () => {
      const r = await ticker(api1);
      return r.status === 'running' ? r : undefined;
    });
    expect(row).toMatchObject({ scope: 'one-per-cluster', status: 'running', restarts: 0 });
    const wf = await api1.createWorkflow(tickFlow(`tick crash ${uid()}`));
    const id = await api1.startExecution(wf.id, { order: 42 });
    const parked = await api1.waitForExecution(id, (e) => nodeRun(e, 'tick')?.status === 'waiting', { what: 'tick waiting' });
    expect(parked.status).not.toBe('succeeded');

    expect((await first.kill()).signal).toBe('SIGKILL');
    const { api: api2 } = await daemonWith('ticker-crash-restart', '{ tickIntervalMs: 200 }', { dataDir: first.dataDir, databaseUrl: first.databaseUrl });

    const done = await api2.waitForStatus(id, ['succeeded', 'failed', 'cancelled'], { timeoutMs: 30_000, intervalMs: 100 });
    expect({ status: done.status, error: done.error }).toEqual({ status: 'succeeded', error: undefined });
    expect(nodeRun(done, 'tick').output).toEqual({ main: { input: { order: 42 }, tick: expect.any(Number), at: expect.any(Number) } });
    const events = await api2.events(id);
    expect(events.filter((e) => e.type === 'node.resumed' && e.nodeId === 'tick')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'execution.finished')).toHaveLength(1);
    // later ticks do not wake it again
    const firstTick = (nodeRun(done, 'tick').output as { main: { tick: number } }).main.tick;
    await until('two more ticks', async () => {
      const other = await api2.run((await api2.createWorkflow(tickFlow(`tick probe ${uid()}`))).id, {}, 10_000);
      const t = (nodeRun(other, 'tick').output as { main: { tick: number } } | undefined)?.main.tick;
      return t !== undefined && t >= firstTick + 2 ? t : undefined;
    });
    expect((await api2.events(id)).filter((e) => e.type === 'node.resumed')).toHaveLength(1);
  }, 180_000);

  it('a bad pluginConfig section fails the plugin at start-up, naming the key; the daemon runs without it', async () => {
    const { daemon, api } = await daemonWith('ticker-bad-config', '{ tickIntervalMs: 5, colour: red }');
    const res = await api.get<PluginsBody>('/api/v1/plugins');
    const row = res.body.items.find((r) => r.name === '@anchorflow/plugin-example');
    expect(row).toMatchObject({ status: 'failed', code: 'INVALID_CONFIG' });
    expect(row!.reason).toContain('pluginConfig.example.tickIntervalMs must not be less than 50');
    expect(row!.reason).toContain('pluginConfig.example.colour is not a known key');
    expect(res.body.services.filter((s) => s.plugin === '@anchorflow/plugin-example')).toEqual([]);
    expect(daemon.logs()).toContain('invalid config section pluginConfig.example');
  }, 120_000);
});

const sharedDb = await sharedDatabase();
(sharedDb ? describe : describe.skip)('one-per-cluster services on two daemons sharing PostgreSQL', () => {
  it('runs the ticker on exactly one daemon and moves it when that daemon is SIGKILLed', async () => {
    const a = await daemonWith('ticker-a', '{ tickIntervalMs: 200 }', { databaseUrl: sharedDb });
    const b = await daemonWith('ticker-b', '{ tickIntervalMs: 200 }', { databaseUrl: sharedDb });
    const both = await until('one daemon running the ticker, the other standing by', async () => {
      const rows = await Promise.all([ticker(a.api), ticker(b.api)]);
      const states = rows.map((r) => r.status).sort();
      return states[0] === 'running' && states[1] === 'standby' ? rows : undefined;
    });
    const [holder, other] = both[0]!.status === 'running' ? [a, b] : [b, a];
    // still exactly one after several lease renewals
    await until('a few lease renewals', async () => {
      const row = await ticker(holder.api);
      return Date.now() - Date.parse(row.since) > 1500 ? row : undefined;
    });
    expect([(await ticker(holder.api)).status, (await ticker(other.api)).status]).toEqual(['running', 'standby']);

    // a node waiting for a tick while the holder dies is woken by the survivor
    const wf = await other.api.createWorkflow(tickFlow(`tick cluster ${uid()}`));
    expect((await holder.daemon.kill()).signal).toBe('SIGKILL');
    const t0 = Date.now();
    await until('the ticker moved to the surviving daemon', async () => ((await ticker(other.api)).status === 'running' ? true : undefined), 20_000);
    expect(Date.now() - t0).toBeLessThan(15_000);
    const done = await other.api.run(wf.id, { n: 1 }, 15_000);
    expect({ status: done.status, tick: (nodeRun(done, 'tick').output as { main: { tick: number } }).main.tick }).toEqual({ status: 'succeeded', tick: expect.any(Number) });
  }, 180_000);
});

const nats = await natsForTests('services');
if ('skip' in nats) reportSkip('plugin services in a worker', nats.skip);
('skip' in nats ? describe.skip : describe)('plugin services in a worker process', () => {
  afterAll(async () => {
    if (!('skip' in nats)) await nats.close();
  });

  it('the worker runs the ticker: it takes the lease and resumes a node suspended in the worker through the daemon', async () => {
    const server = nats as NatsTestServer;
    const prefix = uniquePrefix('services');
    // the daemon does not load the example plugin: the worker serves example.next-tick and runs the ticker
    const daemon = await startDaemon({
      name: 'services-worker-daemon',
      env: { NATS_URL: server.url, ANCHORFLOW_NATS_PREFIX: prefix, ANCHORFLOW_WORKERS_DISCOVERY_WINDOW_MS: '300', ANCHORFLOW_CLUSTER_LEASE_MS: '2000' },
    });
    daemons.push(daemon);
    const api = new Api(daemon.url);
    const worker = await startWorker({ natsUrl: server.url, prefix, env: { ANCHORFLOW_WORKER_PLUGIN_CONFIG: JSON.stringify({ example: { tickIntervalMs: 200 } }), ANCHORFLOW_WORKER_SERVICE_LEASE_MS: '2000' } });
    workers.push(worker);
    await worker.waitForLog((l) => l.msg === 'lease acquired' && l.lease === 'service:@anchorflow/plugin-example/ticker', { what: 'the ticker lease taken by the worker', timeoutMs: 20_000 });
    await until('example.next-tick served by the worker', async () => {
      const res = await api.get<{ items: Array<{ type: string; workers?: string[] }> }>('/api/v1/node-types');
      return res.body.items.find((t) => t.type === 'example.next-tick' && t.workers?.includes(worker.workerId));
    });
    const wf = await api.createWorkflow(tickFlow(`tick worker ${uid()}`));
    const done = await api.run(wf.id, { from: 'worker' }, 20_000);
    expect({ status: done.status, error: done.error }).toEqual({ status: 'succeeded', error: undefined });
    expect(nodeRun(done, 'tick').output).toEqual({ main: { input: { from: 'worker' }, tick: expect.any(Number), at: expect.any(Number) } });
    expect((await api.events(done.id)).filter((e) => e.type === 'node.resumed')).toHaveLength(1);
  }, 120_000);
});
