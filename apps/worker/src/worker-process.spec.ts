import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { NatsConnection } from 'nats';
import type { WorkflowDefinition } from '@anchorflow/engine';
import { AWAIT_WORKER_TOKEN_PREFIX, connectNats, natsNames } from '@anchorflow/transport';
import { type TestDaemon, startDaemon, until } from '../../../libs/plugin-host/src/spec-support/daemon-harness.js';
import { type NatsTestServer, natsForTests, reportSkip, uniquePrefix } from '../../../libs/transport/src/nats/spec-support/nats-test-server.js';
import { effectReceiver } from './spec-support/effect-receiver.js';
import { type WorkerProcess, buildWorker, killWorker, spawnWorker } from './spec-support/worker-process.js';

// Real NATS, the daemon side in this process, every worker a separate `node apps/worker/dist/main.js`.
const server = await natsForTests('workerproc');
const restartServer = 'skip' in server ? server : await natsForTests('natsrestart', { needsOwnServer: true });
if ('skip' in server) reportSkip('worker processes over NATS', server.skip);
if ('skip' in restartServer && !('skip' in server)) reportSkip('worker processes over NATS › NATS restart', restartServer.skip);
const describeNats = 'skip' in server ? describe.skip : describe;
const itRestart = 'skip' in restartServer ? it.skip : it;

const flow = (...steps: Array<{ type: string; params?: Record<string, unknown> }>): WorkflowDefinition => ({
  name: 'remote',
  nodes: [{ id: 'start', type: 'core.trigger.manual' }, ...steps.map((s, i) => ({ id: `step${i + 1}`, type: s.type, params: s.params ?? {} }))],
  edges: steps.map((_s, i) => ({ from: i === 0 ? 'start' : `step${i}`, to: `step${i + 1}` })),
});

describeNats('worker processes over NATS', () => {
  const s = server as NatsTestServer;
  let nc: NatsConnection;
  const workers: WorkerProcess[] = [];
  const cleanups: Array<() => Promise<unknown> | unknown> = [];

  function worker(url: string, prefix: string, env: Record<string, string> = {}): WorkerProcess {
    const w = spawnWorker(url, prefix, env);
    workers.push(w);
    return w;
  }

  async function daemon(conn: NatsConnection, prefix: string, transport: NonNullable<Parameters<typeof startDaemon>[2]>['transport'] = {}): Promise<TestDaemon> {
    const d = await startDaemon(conn, prefix, { transport });
    cleanups.push(() => d.stop());
    return d;
  }

  beforeAll(async () => {
    await buildWorker();
    nc = await connectNats({ url: s.url, reconnectTimeWaitMs: 100 });
  }, 120_000);

  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => killWorker(w)));
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  afterAll(async () => {
    await nc?.close();
    await s.close();
    if (!('skip' in restartServer) && restartServer !== server) await restartServer.close();
  });

  it('runs a remote plugin node in a separate worker process', async () => {
    const prefix = uniquePrefix('proc1');
    const d = await daemon(nc, prefix);
    const w = worker(s.url, prefix);
    await until(() => d.registry.hasLiveWorker('e2e.echo'), 20_000, 'worker announcement');
    expect(d.catalog.list().find((t) => t.type === 'e2e.echo')).toMatchObject({ remote: true, plugin: 'anchorflow-e2e-plugin' });
    const view = await d.finished(await d.start(flow({ type: 'e2e.echo' }), { order: 7 }));
    expect(view.status).toBe('succeeded');
    expect(view.output).toEqual({ step1: { input: { order: 7 }, pid: w.pid, resumed: false, key: `${view.id}:step1`, attempt: 1 } });
    expect(w.pid).not.toBe(process.pid);
  });

  it('redelivers the job of a SIGKILLed worker to another one: the execution completes with one effective side effect', async () => {
    const prefix = uniquePrefix('proc2');
    // the first call for a key holds the worker (so it can be killed mid-job); a repeat answers at once
    const receiver = await effectReceiver((_key, nth) => ({ holdMs: nth === 1 ? 60_000 : 0 }));
    cleanups.push(() => receiver.close());
    const d = await daemon(nc, prefix);
    const first = worker(s.url, prefix, { ANCHORFLOW_WORKER_ACK_WAIT_MS: '1500' });
    await until(() => d.registry.hasLiveWorker('e2e.effect'), 20_000, 'worker announcement');
    const id = await d.start(flow({ type: 'e2e.effect', params: { url: receiver.url } }));
    const call = await receiver.request(1);
    expect(call.pid).toBe(first.pid);
    await killWorker(first, 'SIGKILL');
    const second = worker(s.url, prefix, { ANCHORFLOW_WORKER_ACK_WAIT_MS: '1500' });
    const view = await d.finished(id);
    expect(view.status).toBe('succeeded');
    expect(view.output).toEqual({ step1: { pid: second.pid, key: `${id}:step1`, status: 200 } });
    // two deliveries, one idempotency key: the receiver applied the effect once
    expect(receiver.requests.map((r) => [r.key, r.pid])).toEqual([[`${id}:step1`, first.pid], [`${id}:step1`, second.pid]]);
    expect(receiver.effects).toBe(1);
    expect(d.registry.liveWorkers('e2e.effect').some((w) => w.workerId.endsWith(`-${second.pid}`))).toBe(true);
  });

  it('terminates a malformed job with a logged reason and keeps serving', async () => {
    const prefix = uniquePrefix('proc3');
    const d = await daemon(nc, prefix);
    const w = worker(s.url, prefix);
    await until(() => d.registry.hasLiveWorker('e2e.echo'), 20_000, 'worker announcement');
    const names = natsNames(prefix);
    await nc.jetstream().publish(names.jobs('e2e.echo'), new TextEncoder().encode('{"v":1,"jobId":"x","nodeType":"e2e.echo","attempt":-1}'));
    const rejected = await w.log((l) => l.msg === 'rejected a malformed job; terminated, not redelivered');
    expect(rejected).toMatchObject({ level: 50, subject: names.jobs('e2e.echo'), reason: expect.stringContaining('$.attempt must be an integer >= 1') });
    const view = await d.finished(await d.start(flow({ type: 'e2e.echo' })));
    expect(view.status).toBe('succeeded');
    const jsm = await nc.jetstreamManager();
    const consumer = await jsm.consumers.info(names.jobsStream, names.consumer('e2e.echo'));
    expect([consumer.num_redelivered, consumer.num_ack_pending, (await jsm.streams.info(names.jobsStream)).state.messages]).toEqual([0, 0, 0]);
    expect(w.child.exitCode).toBeNull();
  });

  it('makes an execution wait visibly while no worker serves its node type, and completes it when one starts', async () => {
    const prefix = uniquePrefix('proc4');
    const d = await daemon(nc, prefix, { waitForWorkerMs: 60_000 });
    // a worker that announced the type once, then stopped gracefully (the type stays known)
    const gone = worker(s.url, prefix);
    await until(() => d.registry.hasLiveWorker('e2e.echo'), 20_000, 'worker announcement');
    await killWorker(gone, 'SIGTERM');
    expect(await gone.exited).toBe(0);
    await until(() => !d.registry.hasLiveWorker('e2e.echo'), 5000, 'worker leaving');
    const id = await d.start(flow({ type: 'e2e.echo' }));
    await d.event((e) => e.type === 'node.waiting' && e.executionId === id);
    await until(async () => ((d.engine.view(id) ?? (await d.store.get(id)))?.status === 'waiting'), 5000, 'status waiting');
    const waiting = d.engine.view(id) ?? (await d.store.get(id))!;
    expect(waiting.status).toBe('waiting');
    expect(waiting.nodeRuns.find((n) => n.nodeId === 'step1')).toMatchObject({ status: 'waiting', resumeToken: expect.stringMatching(/^anchorflow\.await-worker\./) });
    expect(AWAIT_WORKER_TOKEN_PREFIX).toBe('anchorflow.await-worker.');
    const late = worker(s.url, prefix);
    const view = await d.finished(id);
    expect(view.status).toBe('succeeded');
    // the plugin never saw a resume: waiting for a worker is not a suspension of the node
    expect(view.output).toEqual({ step1: expect.objectContaining({ pid: late.pid, resumed: false, attempt: 1 }) });
  });

  itRestart('survives a NATS restart mid-run: daemon and worker reconnect and the execution completes', async () => {
    const r = restartServer as NatsTestServer;
    const prefix = uniquePrefix('proc5');
    const conn = await connectNats({ url: r.url, reconnectTimeWaitMs: 100 });
    cleanups.push(() => conn.close());
    const receiver = await effectReceiver((_key, nth) => ({ holdMs: nth === 1 ? 300 : 0 }));
    cleanups.push(() => receiver.close());
    const d = await daemon(conn, prefix, { sweepIntervalMs: 1000 });
    const w = worker(r.url, prefix);
    await until(() => d.registry.hasLiveWorker('e2e.effect'), 20_000, 'worker announcement');
    const id = await d.start(flow({ type: 'e2e.effect', params: { url: receiver.url } }, { type: 'e2e.echo' }));
    await receiver.request(1);
    // the effect node is in flight on the worker: take NATS away and bring it back on the same port and store
    const disconnected = (async () => {
      for await (const st of conn.status()) if (st.type === 'disconnect') return;
    })();
    await r.kill();
    await disconnected;
    // the node finishes while NATS is down: its result must wait for the server, not be lost
    await w.log((l) => l.msg === 'job executed; storing the result' && l.nodeId === 'step1');
    await w.log((l) => l.msg === 'NATS disconnected; reconnecting');
    await r.start();
    const view = await d.finished(id, 40_000);
    expect(view.status).toBe('succeeded');
    expect(view.output).toEqual({ step2: expect.objectContaining({ pid: w.pid, input: { pid: w.pid, key: `${id}:step1`, status: 200 } }) });
    expect(receiver.requests).toHaveLength(1);
    await w.log((l) => l.msg === 'NATS reconnected');
  }, 60_000);
});
