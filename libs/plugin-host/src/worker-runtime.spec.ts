import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { NatsConnection } from 'nats';
import { IsInt, IsOptional, IsString, type NodeLogger, definePlugin, defineNode } from '@anchorflow/plugin-sdk';
import { type WorkflowDefinition, describeNodeType } from '@anchorflow/engine';
import { connectNats, encodeMessage, ensureJobConsumer, ensureJobsStream, natsNames } from '@anchorflow/transport';
import { type NatsTestServer, natsForTests, reportSkip, uniquePrefix } from '../../transport/src/nats/spec-support/nats-test-server.js';
import type { LoadedPlugin } from './plugin-loader.js';
import { startDaemon, until } from './spec-support/daemon-harness.js';
import { WorkerRuntime } from './worker-runtime.js';

const server = await natsForTests('runtime');
if ('skip' in server) reportSkip('WorkerRuntime (real NATS)', server.skip);
const describeNats = 'skip' in server ? describe.skip : describe;

class HoldParams {
  @IsOptional() @IsInt() ms?: number;
}
const holds = { seen: new Set<string>(), aborts: [] as string[], started: [] as string[] };
class CounterParams {
  /** the daemon serves a worker only the credentials its node's params name (issue 17) */
  @IsOptional() @IsString() credential?: string;
}
const counterNode = defineNode<CounterParams>({
  type: 'rt.counter', version: 1, title: 'Counter', category: 'action', inputs: ['main'], outputs: ['main'], params: CounterParams,
  async execute(ctx, input) {
    ctx.progress({ step: 'counting' });
    const count = await ctx.state.update<number>('count', (n) => (n ?? 0) + 1);
    const { token } = await ctx.credentials.get<{ token: string }>(ctx.params.credential ?? 'api');
    const doubled = await ctx.evaluate('x * 2');
    return { main: { count, token, doubled, trigger: await ctx.evaluate('$trigger.x'), key: ctx.idempotencyKey, input } };
  },
});
const holdNode = defineNode<HoldParams>({
  type: 'rt.hold', version: 1, title: 'Hold', category: 'action', inputs: ['main'], outputs: ['main'], params: HoldParams,
  execute(ctx, input) {
    holds.started.push(ctx.idempotencyKey);
    // holds the first time a key is seen: a second delivery (another worker) finishes at once
    if (holds.seen.has(ctx.idempotencyKey)) return { main: { input, again: true } };
    holds.seen.add(ctx.idempotencyKey);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => resolve({ main: { input, held: true } }), ctx.params.ms ?? 60_000);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(t);
        holds.aborts.push(String((ctx.signal.reason as { code?: string })?.code));
        reject(ctx.signal.reason);
      }, { once: true });
    });
  },
});
const plugin: LoadedPlugin = {
  spec: 'rt-plugin', packageName: 'rt-plugin', dir: '/nowhere', entry: '/nowhere/index.js',
  plugin: definePlugin({ name: 'rt-plugin', version: '1.0.0', nodes: [counterNode, holdNode] }), nodes: [counterNode, holdNode],
};

function captureLogger() {
  const entries: Array<{ level: string; msg: string; fields?: Record<string, unknown> }> = [];
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) => void entries.push({ level, msg, ...(fields ? { fields } : {}) });
  const logger: NodeLogger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { entries, logger };
}

describeNats('WorkerRuntime with the engine over NATS', () => {
  const s = server as NatsTestServer;
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  let daemonNc: NatsConnection;

  async function daemon(prefix: string) {
    const d = await startDaemon(daemonNc, prefix, { daemonId: 'daemon-rt' });
    cleanups.push(() => d.stop());
    return d;
  }

  async function worker(prefix: string, over: Partial<ConstructorParameters<typeof WorkerRuntime>[0]> = {}) {
    const nc = await connectNats({ url: s.url, reconnectTimeWaitMs: 100 });
    const { entries, logger } = captureLogger();
    const runtime = new WorkerRuntime({ nc, plugins: [plugin], prefix, ackWaitMs: 2000, heartbeatMs: 500, concurrency: 2, logger, ...over });
    await runtime.start();
    cleanups.push(async () => {
      await runtime.stop();
      await nc.close();
    });
    return { runtime, nc, logs: entries };
  }

  const flow = (type: string, params: Record<string, unknown> = {}): WorkflowDefinition => ({
    name: 'remote',
    nodes: [{ id: 'start', type: 'core.trigger.manual' }, { id: 'remote', type, params }],
    edges: [{ from: 'start', to: 'remote' }],
  });

  beforeAll(async () => {
    daemonNc = await connectNats({ url: s.url, reconnectTimeWaitMs: 100 });
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  afterAll(async () => {
    await daemonNc?.close();
    await s.close();
  });

  it('runs remote nodes for the engine; state, credentials, expressions and progress go through the daemon', async () => {
    const prefix = uniquePrefix('rt1');
    const d = await daemon(prefix);
    const w = await worker(prefix);
    await until(() => d.registry.hasLiveWorker('rt.counter'));
    expect(d.catalog.list().find((t) => t.type === 'rt.counter')).toMatchObject({ remote: true, plugin: 'rt-plugin' });
    const first = await d.finished(await d.start(flow('rt.counter', { credential: 'api' }), { x: 21 }));
    expect(first.status).toBe('succeeded');
    expect(first.output).toEqual({ remote: { count: 1, token: 'token-of-api', doubled: 42, trigger: 21, key: expect.stringMatching(/:remote$/), input: { x: 21 } } });
    const second = await d.finished(await d.start(flow('rt.counter', { credential: 'api' }), { x: 1 }));
    expect(second.output).toMatchObject({ remote: { count: 2, doubled: 2 } });
    // the plugin's state lives in the daemon, under the plugin's name
    expect(await d.states.get('rt-plugin')!.get('count')).toBe(2);
    expect(w.runtime.stats).toMatchObject({ completed: 2, failed: 0 });
  });

  it('rejects a malformed job with a logged reason, terminates it (no redelivery) and keeps serving', async () => {
    const prefix = uniquePrefix('rt2');
    const d = await daemon(prefix);
    const w = await worker(prefix);
    await until(() => d.registry.hasLiveWorker('rt.counter'));
    const names = natsNames(prefix);
    const js = daemonNc.jetstream();
    await js.publish(names.jobs('rt.counter'), new TextEncoder().encode('{"v":1,"jobId":'));
    await js.publish(names.jobs('rt.counter'), encodeMessage({ v: 1, jobId: 'j', daemonId: 'daemon-rt', nodeType: 'rt.counter', attempt: 'first' }));
    await until(() => w.runtime.stats.rejected === 2);
    const rejections = w.logs.filter((l) => l.msg === 'rejected a malformed job; terminated, not redelivered');
    expect(rejections.map((l) => l.fields?.reason)).toEqual([
      expect.stringContaining('job message is not JSON'),
      expect.stringMatching(/\$\.executionId is missing.*\$\.attempt must be an integer >= 1/),
    ]);
    const jsm = await daemonNc.jetstreamManager();
    await until(async () => (await jsm.consumers.info(names.jobsStream, names.consumer('rt.counter'))).num_ack_pending === 0);
    const info = await jsm.consumers.info(names.jobsStream, names.consumer('rt.counter'));
    expect(info.num_redelivered).toBe(0);
    expect((await jsm.streams.info(names.jobsStream)).state.messages).toBe(0);
    // still serving
    expect((await d.finished(await d.start(flow('rt.counter', { credential: 'api' }), { x: 2 }))).status).toBe('succeeded');
  });

  it('aborts the node on the worker when the execution is cancelled', async () => {
    const prefix = uniquePrefix('rt3');
    const d = await daemon(prefix);
    await worker(prefix);
    await until(() => d.registry.hasLiveWorker('rt.hold'));
    const id = await d.start(flow('rt.hold', { ms: 60_000 }));
    await until(() => holds.started.some((k) => k.startsWith(id)));
    await d.engine.cancel(id);
    await until(() => holds.aborts.includes('CANCELLED'));
    expect((await d.finished(id)).status).toBe('cancelled');
  });

  it('reports a job that keeps killing its workers as failed instead of running it again', async () => {
    const prefix = uniquePrefix('rt4');
    const d = await daemon(prefix);
    const names = natsNames(prefix);
    // a worker that takes the job and dies without a word (it never acks)
    const jsm = await daemonNc.jetstreamManager();
    await ensureJobsStream(jsm, names);
    await ensureJobConsumer(jsm, names, 'rt.counter', { ackWaitMs: 1000, maxDeliver: 2 });
    daemonNc.publish(names.announce, encodeMessage({ v: 1, workerId: 'doomed', plugins: [], nodeTypes: [{ ...describeNodeType(counterNode), plugin: 'rt-plugin' }], heartbeatMs: 60_000, at: Date.now() }));
    await until(() => d.registry.hasLiveWorker('rt.counter'));
    const id = await d.start(flow('rt.counter'));
    const doomed = await (await daemonNc.jetstream().consumers.get(names.jobsStream, names.consumer('rt.counter'))).next({ expires: 5000 });
    expect(doomed?.info.deliveryCount).toBe(1);
    // the real worker allows one run per job: the redelivery is reported, not run
    const w = await worker(prefix, { maxDeliver: 1, ackWaitMs: 1000 });
    const view = await d.finished(id);
    expect(view.status).toBe('failed');
    expect(view.error).toMatchObject({ code: 'JOB_REDELIVERY_EXHAUSTED', nodeId: 'remote', message: expect.stringContaining('was started 1 times without finishing') });
    expect(w.runtime.stats).toMatchObject({ exhausted: 1, completed: 0 });
  });

  it('on stop, finishes what it can and hands back the rest to another worker (same idempotency key)', async () => {
    const prefix = uniquePrefix('rt5');
    const d = await daemon(prefix);
    const a = await worker(prefix, { shutdownTimeoutMs: 300 });
    await until(() => d.registry.hasLiveWorker('rt.hold'));
    const id = await d.start(flow('rt.hold', { ms: 60_000 }));
    await until(() => holds.started.filter((k) => k.startsWith(id)).length === 1);
    const b = await worker(prefix, { workerId: 'second' });
    await a.runtime.stop();
    expect(a.runtime.stats.handedBack).toBe(1);
    expect(holds.aborts).toContain('WORKER_SHUTTING_DOWN');
    const view = await d.finished(id);
    expect(view.status).toBe('succeeded');
    expect(view.output).toMatchObject({ remote: { again: true } });
    const keys = holds.started.filter((k) => k.startsWith(id));
    expect(keys).toEqual([keys[0], keys[0]]);
    expect(b.runtime.stats.completed).toBe(1);
  });
});
