import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { JsMsg, NatsConnection } from 'nats';
import { NodeError, type PluginState, TransientNodeError, credentialAllowHostsOf, credentialScopedFetch, defineNode, withCredentialAllowHosts } from '@anchorflow/plugin-sdk';
import { MemoryPluginState } from '@anchorflow/plugin-sdk/testing';
import { NodeCatalog, type NodeJob, type NodeJobEnvironment, describeNodeType } from '@anchorflow/engine';
import { connectNats, ensureJobConsumer, ensureJobsStream, openResultsBucket } from './connection.js';
import { type AnnounceMessage, type JobMessage, type JobOutcomeWire, type ResultMessage, decodeCancel, decodeJob, decodeRpcReply, encodeMessage } from './messages.js';
import { AWAIT_WORKER_TOKEN_PREFIX, NatsTransport } from './nats.transport.js';
import { RemoteNodeRegistry } from './remote-node-registry.js';
import { type NatsNames, natsNames } from './subjects.js';
import { remoteJobHost } from './worker-host.js';
import { type NatsTestServer, natsForTests, reportSkip } from './spec-support/nats-test-server.js';

const server = await natsForTests('transport');
if ('skip' in server) reportSkip('NatsTransport (real NATS)', server.skip);
const describeNats = 'skip' in server ? describe.skip : describe;

const TYPE = 'demo.echo';
const echo = defineNode({ type: TYPE, version: 1, title: 'Echo', category: 'action', inputs: ['main'], outputs: ['main'], execute: (_c, i) => ({ main: i }) });
let seq = 0;
const JOB_KEY = new Uint8Array(32).fill(7);

/** A minimal worker speaking the wire format directly: runs `handle` for each job, stores and notifies the result. */
async function fakeWorker(nc: NatsConnection, names: NatsNames, handle: (job: JobMessage, msg: JsMsg) => Promise<JobOutcomeWire | 'no-result'>, opts: { notify?: boolean } = {}) {
  const jsm = await nc.jetstreamManager();
  await ensureJobsStream(jsm, names);
  await ensureJobConsumer(jsm, names, TYPE, { ackWaitMs: 5000 });
  const kv = await openResultsBucket(nc, names);
  const jobs: JobMessage[] = [];
  const messages = await (await nc.jetstream().consumers.get(names.jobsStream, names.consumer(TYPE))).consume({ max_messages: 1 });
  void (async () => {
    for await (const msg of messages) {
      const decoded = decodeJob(msg.data);
      if (!decoded.ok) {
        msg.term();
        continue;
      }
      jobs.push(decoded.value);
      void handle(decoded.value, msg).then(async (outcome) => {
        if (outcome === 'no-result') return msg.term();
        const data = encodeMessage({ v: 1, jobId: decoded.value.jobId, secret: decoded.value.secret, workerId: 'fake', outcome, delivery: msg.info.deliveryCount, durationMs: 1, finishedAt: Date.now() } satisfies ResultMessage);
        await kv.put(names.resultKey(decoded.value.jobId), data);
        if (opts.notify !== false) nc.publish(names.results(decoded.value.daemonId), data);
        msg.ack();
      });
    }
  })();
  return { jobs, stop: () => messages.close() };
}

function announce(nc: NatsConnection, names: NatsNames, workerId = 'fake-worker'): void {
  nc.publish(names.announce, encodeMessage({ v: 1, workerId, plugins: [{ name: 'demo', version: '1' }], nodeTypes: [{ ...describeNodeType(echo), plugin: 'demo' }], heartbeatMs: 60_000, at: Date.now() } satisfies AnnounceMessage));
}

function env(over: Partial<NodeJobEnvironment> & { states?: Map<string, PluginState> } = {}) {
  const controller = new AbortController();
  const progress: unknown[] = [];
  const states = over.states ?? new Map<string, PluginState>();
  const e: NodeJobEnvironment = {
    signal: controller.signal,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    credentials: { get: async <T extends object>(ref: string) => ({ ref, secret: 's3cret' }) as unknown as T },
    state: (plugin) => {
      if (!states.has(plugin)) states.set(plugin, new MemoryPluginState());
      return states.get(plugin)!;
    },
    evaluate: async (expression, input) => ({ expression, input }),
    progress: (d) => void progress.push(d),
    now: Date.now,
    ...over,
  } as NodeJobEnvironment;
  return { env: e, controller, progress, states };
}

function job(over: Partial<NodeJob> = {}): NodeJob {
  const id = `exec-${++seq}`;
  return { executionId: id, workflowId: 'wf', nodeId: 'node.a', nodeType: TYPE, attempt: 1, idempotencyKey: `${id}:node.a`, params: { p: 1 }, input: { hello: 'world' }, ...over };
}

describeNats('NatsTransport (real NATS)', () => {
  const s = server as NatsTestServer;
  let nc: NatsConnection;
  let names: NatsNames;
  let catalog: NodeCatalog;
  let registry: RemoteNodeRegistry;
  const stops: Array<() => Promise<unknown> | unknown> = [];

  async function transport(over: Partial<ConstructorParameters<typeof NatsTransport>[0]> = {}) {
    // one job key for every "process" of daemon-1 (a real daemon keeps it in its plugin state)
    const t = new NatsTransport({ nc, daemonId: 'daemon-1', registry, catalog, prefix: s.prefix, jobKey: JOB_KEY, ...over });
    await t.start();
    stops.push(() => t.stop());
    return t;
  }

  beforeAll(async () => {
    nc = await connectNats({ url: s.url, reconnectTimeWaitMs: 100 });
    names = natsNames(s.prefix);
    catalog = new NodeCatalog();
    registry = new RemoteNodeRegistry({ nc, catalog, prefix: s.prefix });
    await registry.start();
    // every test runs demo.echo on a fake worker: announced and known before any of them (in any order)
    announce(nc, names);
    await nc.flush();
    await until(() => registry.hasLiveWorker(TYPE));
    catalog.registerRemote(describeNodeType(echo), 'demo');
  });

  // each test's workers and transports end with it: a worker left consuming would take the next test's jobs
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });

  afterAll(async () => {
    await registry?.stop();
    await nc?.close();
    await s.close();
  });

  it('runs a job on a worker, serving its state, credentials and evaluate requests and forwarding progress', async () => {
    const worker = await fakeWorker(nc, names, async (j) => {
      const host = remoteJobHost({ nc, names, job: j, signal: new AbortController().signal, logger: { debug() {}, info() {}, warn() {}, error() {} } });
      host.progress({ pct: 50 });
      await host.state.set('seen', 1);
      const counted = await host.state.update<number>('seen', (n) => (n ?? 0) + 1);
      const list = await host.state.list('s');
      const cred = await host.credentials.get<{ secret: string }>('api');
      const evaluated = await host.evaluate('$.hello', j.input);
      return { kind: 'output', outputs: { main: { counted, list, secret: cred.secret, evaluated, params: j.params, attempt: j.attempt } } };
    });
    stops.push(worker.stop);
    const t = await transport();
    const { env: e, progress, states } = env();
    const outcome = await t.run(job({ params: { p: 1, auth: { credential: 'api' } } }), e);
    expect(outcome).toEqual({ kind: 'output', outputs: { main: { counted: 2, list: [{ key: 'seen', value: 2 }], secret: 's3cret', evaluated: { expression: '$.hello', input: { hello: 'world' } }, params: { p: 1, auth: { credential: 'api' } }, attempt: 1 } } });
    expect(progress).toEqual([{ pct: 50 }]);
    // state is scoped to the plugin that provides the type
    expect(await states.get('demo')!.get('seen')).toBe(2);
    await worker.stop();
  });

  it('keeps the retry classification of errors thrown on the worker', async () => {
    const worker = await fakeWorker(nc, names, async (j) => ({ kind: 'error', error: j.params.fatal ? { message: 'bad input', code: 'BAD', retryable: false } : { message: 'busy', code: 'BUSY', retryable: true, retryAfterMs: 500 } }));
    stops.push(worker.stop);
    const t = await transport();
    await expect(t.run(job({ params: { fatal: true } }), env().env)).rejects.toMatchObject({ constructor: NodeError, code: 'BAD', retryable: false, message: 'bad input' });
    await expect(t.run(job(), env().env)).rejects.toMatchObject({ constructor: TransientNodeError, code: 'BUSY', retryable: true, retryAfterMs: 500 });
    await worker.stop();
  });

  it('does not run a job twice when a restarted daemon publishes it again: the stored result is returned', async () => {
    let runs = 0;
    const worker = await fakeWorker(nc, names, async () => ({ kind: 'output', outputs: { main: { run: ++runs } } }));
    stops.push(worker.stop);
    const j = job();
    const before = await transport();
    expect(await before.run(j, env().env)).toEqual({ kind: 'output', outputs: { main: { run: 1 } } });
    // a new process with the same daemon id re-dispatches the in-flight node: same attempt, same job id
    const after = await transport();
    expect(await after.run(j, env().env)).toEqual({ kind: 'output', outputs: { main: { run: 1 } } });
    expect(runs).toBe(1);
    expect(worker.jobs).toHaveLength(1);
    await worker.stop();
  });

  it('finds a result whose notification was missed in the results bucket', async () => {
    const worker = await fakeWorker(nc, names, async () => ({ kind: 'output', outputs: { main: 'stored only' } }), { notify: false });
    stops.push(worker.stop);
    const t = await transport({ sweepIntervalMs: 1000 });
    expect(await t.run(job(), env().env)).toEqual({ kind: 'output', outputs: { main: 'stored only' } });
    await worker.stop();
  });

  it('cancels an abandoned attempt on the worker, but leaves it running when the daemon shuts down', async () => {
    const cancels: string[] = [];
    const sub = nc.subscribe(names.cancel(TYPE), { callback: (_e, m) => { const c = decodeCancel(m.data); if (c.ok) cancels.push(c.value.jobId); } });
    stops.push(() => sub.unsubscribe());
    const started: JobMessage[] = [];
    let started$ = defer<void>();
    const worker = await fakeWorker(nc, names, async (j) => {
      started.push(j);
      started$.resolve();
      return 'no-result';
    });
    stops.push(worker.stop);
    const t = await transport();
    const a = env();
    const running = t.run(job(), a.env);
    await started$.promise;
    a.controller.abort(new Error('execution cancelled'));
    await expect(running).rejects.toThrow('execution cancelled');
    await until(() => cancels.length === 1);
    expect(cancels).toEqual([started[0].jobId]);
    started$ = defer<void>();
    const b = env();
    const running2 = t.run(job(), b.env);
    await started$.promise;
    b.controller.abort(Object.assign(new Error('the daemon is shutting down'), { code: 'SHUTTING_DOWN' }));
    await expect(running2).rejects.toThrow('shutting down');
    await nc.flush();
    expect(cancels).toHaveLength(1);
    await worker.stop();
  });

  it('makes a node wait for a worker, wakes it when one announces, and hands the plugin its original resume', async () => {
    const type = 'demo.later';
    const later = defineNode({ ...echo, type });
    const catalogL = catalog;
    catalogL.registerRemote(describeNodeType(later), 'demo');
    const state = new MemoryPluginState();
    const t = await transport({ state, waitForWorkerMs: 60_000, workerRecheckMs: 5000 });
    const signalled: string[] = [];
    t.attachEngine({ signal: async (token) => void signalled.push(token) });
    const resume = { reason: 'timer' as const, suspendedAt: 123 };
    const j = job({ nodeType: type, resume });
    const first = await t.run(j, env().env);
    expect(first).toMatchObject({ kind: 'suspend', token: expect.stringMatching(new RegExp(`^${AWAIT_WORKER_TOKEN_PREFIX.replace(/\./g, '\\.')}`)) });
    const token = (first as { token: string }).token;
    expect((first as { until: number }).until).toBeLessThanOrEqual(Date.now() + 5000);
    // re-dispatched by its recheck timer while still no worker: same token, still waiting
    expect(await t.run({ ...j, resume: { reason: 'timer', suspendedAt: 123 } }, env().env)).toMatchObject({ kind: 'suspend', token });
    expect(await state.list('await:')).toHaveLength(1);
    // a worker for the type appears
    const jsm = await nc.jetstreamManager();
    await ensureJobConsumer(jsm, names, type);
    const seen: JobMessage[] = [];
    const messages = await (await nc.jetstream().consumers.get(names.jobsStream, names.consumer(type))).consume({ max_messages: 1 });
    stops.push(() => messages.close());
    const kv = await openResultsBucket(nc, names);
    void (async () => {
      for await (const m of messages) {
        const d = decodeJob(m.data);
        if (!d.ok) continue;
        seen.push(d.value);
        const data = encodeMessage({ v: 1, jobId: d.value.jobId, secret: d.value.secret, workerId: 'w', outcome: { kind: 'output', outputs: { main: 'done' } }, delivery: 1, durationMs: 1, finishedAt: 1 } satisfies ResultMessage);
        await kv.put(names.resultKey(d.value.jobId), data);
        nc.publish(names.results(d.value.daemonId), data);
        m.ack();
      }
    })();
    nc.publish(names.announce, encodeMessage({ v: 1, workerId: 'late-worker', plugins: [], nodeTypes: [{ ...describeNodeType(later), plugin: 'demo' }], heartbeatMs: 60_000, at: Date.now() } satisfies AnnounceMessage));
    await until(() => signalled.length === 1);
    expect(signalled).toEqual([token]);
    // the engine re-dispatches it with the resume of the signal; the plugin must see the one it had before waiting
    expect(await t.run({ ...j, resume: { reason: 'signal', suspendedAt: 999 } }, env().env)).toEqual({ kind: 'output', outputs: { main: 'done' } });
    expect(seen.map((x) => x.resume)).toEqual([resume]);
    expect(await state.list('await:')).toEqual([]);
  });

  it('fails a node with NO_WORKER once it has waited the configured limit', async () => {
    const type = 'demo.never';
    catalog.registerRemote(describeNodeType(defineNode({ ...echo, type })), 'demo');
    const state = new MemoryPluginState();
    const t = await transport({ state, waitForWorkerMs: 10 * 60_000 });
    const j = job({ nodeType: type });
    expect(await t.run(j, env().env)).toMatchObject({ kind: 'suspend' });
    // ten minutes later (the record is what counts, also after a daemon restart)
    const [{ key, value }] = await state.list<{ since: number }>('await:');
    await state.set(key, { ...value, since: Date.now() - 10 * 60_000 - 1 });
    const restarted = await transport({ state, waitForWorkerMs: 10 * 60_000 });
    await expect(restarted.run(j, env().env)).rejects.toMatchObject({ code: 'NO_WORKER', retryable: false, message: expect.stringContaining('no worker serving node type demo.never') });
    expect(await state.list('await:')).toEqual([]);
  });

  /**
   * A running job whose worker holds it (no result until `release`), plus what an attacker on the bus
   * sees: the job ids (they travel on the jobs subjects), never the secret.
   */
  async function heldJob(params: Record<string, unknown>, jobEnv: NodeJobEnvironment = env().env) {
    announce(nc, names);
    await until(() => registry.hasLiveWorker(TYPE));
    // a daemon id of its own: the transports of earlier tests still answer on daemon-1's RPC subjects
    const daemonId = `daemon-bus-${++seq}`;
    const t = await transport({ daemonId });
    const release = defer<JobOutcomeWire>();
    const pulled = defer<JobMessage>();
    const worker = await fakeWorker(nc, names, async (j) => {
      pulled.resolve(j);
      return release.promise;
    });
    stops.push(worker.stop);
    const running = t.run(job({ params }), jobEnv);
    const j = await pulled.promise;
    const ask = async (op: 'state' | 'credentials' | 'evaluate', body: object) =>
      decodeRpcReply((await nc.request(names.rpc(daemonId, op), encodeMessage({ v: 1, jobId: j.jobId, ...body }), { timeout: 2000 })).data);
    return { t, j, running, release, ask, worker };
  }

  it('worker bus (issue 17): serves no credential, state or expression to a client that knows the job id but not its secret', async () => {
    const { j, running, release, ask, worker } = await heldJob({ credential: 'api' });
    const guessed = 'A'.repeat(43);
    for (const [op, body] of [['credentials', { ref: 'api' }], ['state', { op: 'get', key: 'k' }], ['evaluate', { expression: '1' }]] as const) {
      expect(await ask(op, { secret: guessed, ...body })).toMatchObject({ ok: true, value: { ok: false, error: { code: 'JOB_NOT_ACTIVE' } } });
    }
    // the worker that pulled the job has the secret
    expect(await ask('credentials', { secret: j.secret, ref: 'api' })).toMatchObject({ ok: true, value: { ok: true, value: { ref: 'api', secret: 's3cret' } } });
    release.resolve({ kind: 'output', outputs: { main: 'ok' } });
    await running;
    await worker.stop();
  });

  it('worker bus (issue 17): serves only the credentials the node references, even to the worker holding the job', async () => {
    const { j, running, release, ask, worker } = await heldJob({ credential: 'api' });
    expect(await ask('credentials', { secret: j.secret, ref: 'payroll-db' })).toMatchObject({ ok: true, value: { ok: false, error: { code: 'CREDENTIAL_NOT_REFERENCED', message: expect.stringContaining('"payroll-db" is not referenced') } } });
    release.resolve({ kind: 'output', outputs: { main: 'ok' } });
    await running;
    await worker.stop();
  });

  it('credential scopes (issue 17): a credential\'s host scope reaches the worker beside its data, and narrows ctx.fetch there', async () => {
    const scopedEnv = env({ credentials: { get: async <T extends object>() => withCredentialAllowHosts({ secret: 's3cret' }, 'api', ['api.example.com']) as unknown as T } }).env;
    const { j, running, release, worker } = await heldJob({ credential: 'api' }, scopedEnv);
    const host = remoteJobHost({ nc, names, job: j, signal: new AbortController().signal, logger: { debug() {}, info() {}, warn() {}, error() {} } });
    const data = await host.credentials.get<{ secret: string }>('api');
    expect(data).toEqual({ secret: 's3cret' });
    expect(credentialAllowHostsOf(data)).toEqual({ credential: 'api', entries: ['api.example.com'] });
    const scoped = credentialScopedFetch(async () => new Response('unreachable'));
    scoped.track(data);
    await expect(scoped.fetch('http://127.0.0.1:9/')).rejects.toMatchObject({ code: 'CREDENTIAL_HOST_NOT_ALLOWED' });
    release.resolve({ kind: 'output', outputs: { main: 'ok' } });
    await running;
    await worker.stop();
  });

  it('worker bus (issue 17): ignores a result injected without the job secret; the real result still lands', async () => {
    const { j, running, release, worker } = await heldJob({});
    const forged = { v: 1, jobId: j.jobId, secret: 'B'.repeat(43), workerId: 'evil', outcome: { kind: 'output', outputs: { main: 'forged' } }, delivery: 1, durationMs: 1, finishedAt: Date.now() } satisfies ResultMessage;
    nc.publish(names.results(j.daemonId), encodeMessage(forged));
    // and without any secret at all (the old wire format)
    const { secret: _dropped, ...unsigned } = forged;
    nc.publish(names.results(j.daemonId), encodeMessage(unsigned));
    await nc.flush();
    release.resolve({ kind: 'output', outputs: { main: 'real' } });
    expect(await running).toEqual({ kind: 'output', outputs: { main: 'real' } });
    await worker.stop();
  });

  it('refuses worker requests for jobs not in flight and malformed requests', async () => {
    await transport();
    const ask = async (op: string, body: unknown) => decodeRpcReply((await nc.request(names.rpc('daemon-1', op as 'state'), typeof body === 'string' ? new TextEncoder().encode(body) : encodeMessage(body as object), { timeout: 2000 })).data);
    expect(await ask('credentials', { v: 1, jobId: 'nope', secret: 'x'.repeat(43), ref: 'api' })).toMatchObject({ ok: true, value: { ok: false, error: { code: 'JOB_NOT_ACTIVE' } } });
    expect(await ask('state', `{"v":1,"jobId":"x","secret":"${'x'.repeat(43)}","op":"explode"}`)).toMatchObject({ ok: true, value: { ok: false, error: { code: 'BAD_REQUEST', message: expect.stringContaining('op must be') } } });
  });
});

function defer<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** waits for a condition that some NATS round trip will make true (polls the event loop, not a clock) */
async function until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
