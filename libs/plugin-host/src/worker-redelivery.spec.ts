import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { JsMsg, NatsConnection } from 'nats';
import { definePlugin, defineNode } from '@anchorflow/plugin-sdk';
import {
  type JobMessage,
  type ResultMessage,
  connectNats,
  decodeJob,
  decodeResult,
  encodeMessage,
  ensureJobConsumer,
  ensureJobsStream,
  natsNames,
  openResultsBucket,
  sleep,
  storeJobResult,
} from '@anchorflow/transport';
import { type NatsTestServer, natsForTests, reportSkip, uniquePrefix } from '../../transport/src/nats/spec-support/nats-test-server.js';
import type { LoadedPlugin } from './plugin-loader.js';
import { until } from './spec-support/daemon-harness.js';
import { WorkerRuntime } from './worker-runtime.js';

const server = await natsForTests('redelivery');
if ('skip' in server) reportSkip('WorkerRuntime redelivery (real NATS)', server.skip);
const describeNats = 'skip' in server ? describe.skip : describe;

/** every run of the node, by job id: a node that runs twice for one stream message is the bug */
const runs: string[] = [];
const onceNode = defineNode({
  type: 'rd.once', version: 1, title: 'Once', category: 'action', inputs: ['main'], outputs: ['main'],
  execute(ctx, input) {
    runs.push(ctx.idempotencyKey);
    return { main: { ranOn: 'worker', input } };
  },
});
const plugin: LoadedPlugin = {
  spec: 'rd-plugin', packageName: 'rd-plugin', dir: '/nowhere', entry: '/nowhere/index.js',
  plugin: definePlugin({ name: 'rd-plugin', version: '1.0.0', nodes: [onceNode] }), nodes: [onceNode],
};
const ACK_WAIT_MS = 1000;
const DAEMON = 'daemon-rd';
/** a short duplicate window: the same job id can be published again as a new stream message */
const STREAM = { duplicateWindowMs: 500 };

describeNats('WorkerRuntime: a job whose result is stored is not run again for the same stream message', () => {
  const s = server as NatsTestServer;
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  let nc: NatsConnection;

  beforeAll(async () => {
    nc = await connectNats({ url: s.url, reconnectTimeWaitMs: 100 });
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  afterAll(async () => {
    await nc?.close();
    await s.close();
  });

  async function setUp(label: string) {
    const prefix = uniquePrefix(label);
    const names = natsNames(prefix);
    const jsm = await nc.jetstreamManager();
    await ensureJobsStream(jsm, names, STREAM);
    await ensureJobConsumer(jsm, names, 'rd.once', { ackWaitMs: ACK_WAIT_MS, maxDeliver: 6 });
    await openResultsBucket(nc, names);
    const results: ResultMessage[] = [];
    const sub = nc.subscribe(names.results(DAEMON), { callback: (_e, m) => { const d = decodeResult(m.data); if (d.ok) results.push(d.value); } });
    cleanups.push(() => sub.unsubscribe());
    const job = (jobId: string): JobMessage => ({
      v: 1, jobId, daemonId: DAEMON, executionId: `e-${jobId}`, workflowId: 'w', nodeId: 'n', nodeType: 'rd.once', attempt: 1,
      idempotencyKey: jobId, params: {}, input: { jobId }, publishedAt: Date.now(), secret: 'S'.repeat(43),
    });
    const publish = async (jobId: string) => {
      const ack = await nc.jetstream().publish(names.jobs('rd.once'), encodeMessage(job(jobId)), { msgID: jobId });
      expect(ack.duplicate).toBe(false);
      return ack.seq;
    };
    return { prefix, names, results, publish };
  }

  async function worker(prefix: string, workerId: string) {
    const wnc = await connectNats({ url: s.url, reconnectTimeWaitMs: 100 });
    const logs: Array<{ msg: string; fields?: Record<string, unknown> }> = [];
    const log = (msg: string, fields?: Record<string, unknown>) => void logs.push({ msg, ...(fields ? { fields } : {}) });
    const runtime = new WorkerRuntime({ nc: wnc, plugins: [plugin], prefix, workerId, stream: STREAM, ackWaitMs: ACK_WAIT_MS, heartbeatMs: 500, concurrency: 2, logger: { debug: log, info: log, warn: log, error: log } });
    await runtime.start();
    cleanups.push(async () => {
      await runtime.stop();
      await wnc.close();
    });
    return { runtime, logs };
  }

  /**
   * A worker that pulls the job the way WorkerRuntime does (consume, one message), then dies: with
   * `store`, after storing its result (WorkerRuntime's own storeJobResult) and before acking.
   */
  async function doomedWorker(names: ReturnType<typeof natsNames>, opts: { store: boolean }): Promise<JsMsg> {
    const dnc = await connectNats({ url: s.url, reconnectTimeWaitMs: 100 });
    const consumer = await dnc.jetstream().consumers.get(names.jobsStream, names.consumer('rd.once'));
    const messages = await consumer.consume({ max_messages: 1 });
    let taken: JsMsg | undefined;
    for await (const m of messages) {
      taken = m;
      break;
    }
    const decoded = decodeJob(taken!.data);
    if (!decoded.ok) throw new Error(decoded.reason);
    if (opts.store) {
      const result: ResultMessage = { v: 1, jobId: decoded.value.jobId, secret: decoded.value.secret, workerId: 'doomed', outcome: { kind: 'output', outputs: { main: { ranOn: 'doomed' } } }, delivery: taken!.info.deliveryCount, durationMs: 1, finishedAt: Date.now() };
      await storeJobResult(dnc.jetstream(), names, decoded.value.jobId, encodeMessage(result), taken!);
    }
    // killed: no ack, the connection just goes (its pull request may stay listed on the server)
    await dnc.close();
    return taken!;
  }

  it('resends the stored result when the dead worker\'s message comes back, even as delivery 1 (nats-server 2.9 rewind)', async () => {
    const { prefix, names, results, publish } = await setUp('rdrewind');
    const seq = await publish('job-rewind');
    const first = await doomedWorker(names, { store: true });
    expect(first.seq).toBe(seq);
    expect(first.info.deliveryCount).toBe(1);
    // the next worker starts 0.8–1.6 s after the death: the ack wait (1 s) runs out with nobody pulling,
    // which is when nats-server 2.9 rewinds the consumer and hands the message out again as delivery 1.
    // The delay IS the scenario (no event to await: nothing happens on the server but time passing).
    await sleep(800 + Math.floor(Math.random() * 800));
    const w = await worker(prefix, 'second');
    await until(() => results.length === 1);
    expect(results[0]).toMatchObject({ jobId: 'job-rewind', workerId: 'doomed', outcome: { kind: 'output', outputs: { main: { ranOn: 'doomed' } } } });
    expect(runs.filter((k) => k === 'job-rewind')).toEqual([]);
    expect(w.runtime.stats).toMatchObject({ redeliveredWithResult: 1, completed: 0 });
    const resent = w.logs.find((l) => l.msg === 'redelivered job already has a result; sending it again instead of running the node');
    // the same stream message; its delivery number is whatever the server says (1 after a rewind)
    expect(resent?.fields).toMatchObject({ jobId: 'job-rewind', streamSeq: seq });
    const jsm = await nc.jetstreamManager();
    await until(async () => (await jsm.consumers.info(names.jobsStream, names.consumer('rd.once'))).num_ack_pending === 0);
  });

  it('resends the stored result to a first delivery of the same old message (consumer created again: delivery 1, deterministic)', async () => {
    const { prefix, names, results, publish } = await setUp('rdfirst');
    const seq = await publish('job-first');
    await doomedWorker(names, { store: true });
    // the consumer's memory of that delivery goes (deleted by an operator, lost with the server's state;
    // nats-server 2.9's rewind has the same effect): the message comes back as delivery 1, the case that
    // deliveryCount > 1 alone missed. It is older than an ack wait, as any redelivery is.
    const jsm = await nc.jetstreamManager();
    await jsm.consumers.delete(names.jobsStream, names.consumer('rd.once'));
    const publishedAt = (await jsm.streams.getMessage(names.jobsStream, { seq })).time.getTime();
    await until(() => Date.now() - publishedAt > ACK_WAIT_MS);
    const w = await worker(prefix, 'second');
    await until(() => results.length === 1);
    expect(results[0]).toMatchObject({ jobId: 'job-first', workerId: 'doomed' });
    expect(runs.filter((k) => k === 'job-first')).toEqual([]);
    const resent = w.logs.find((l) => l.msg === 'redelivered job already has a result; sending it again instead of running the node');
    expect(resent?.fields).toMatchObject({ jobId: 'job-first', streamSeq: seq, delivery: 1 });
    expect(w.runtime.stats).toMatchObject({ redeliveredWithResult: 1, completed: 0, resultLookups: 1 });
  });

  it('runs a job id published again as a new message (after the duplicate window): the earlier stored result is not resent', async () => {
    const { prefix, names, results, publish } = await setUp('rdagain');
    const a = await worker(prefix, 'first');
    const firstSeq = await publish('job-again');
    await until(() => results.length === 1);
    expect(results[0]).toMatchObject({ jobId: 'job-again', workerId: 'first', outcome: { kind: 'output', outputs: { main: { ranOn: 'worker' } } } });
    // the hot path: a fresh first delivery reads nothing from the results bucket
    expect(a.runtime.stats).toMatchObject({ completed: 1, resultLookups: 0 });
    await a.runtime.stop();
    // the same job id again once the duplicate window (0.5 s) is over: a new stream message
    await until(async () => {
      try {
        return (await publish('job-again')) > firstSeq;
      } catch {
        return false; // still a duplicate
      }
    });
    // a worker takes it and dies before storing anything; the next one gets it after the ack wait,
    // old enough to look in the bucket (delivery 2, or 1 after a 2.9 rewind): the stored result there
    // belongs to the first message and must not be resent
    await doomedWorker(names, { store: false });
    const b = await worker(prefix, 'second');
    await until(() => results.length === 2);
    expect(results[1]).toMatchObject({ jobId: 'job-again', workerId: 'second', outcome: { kind: 'output', outputs: { main: { ranOn: 'worker' } } } });
    expect(runs.filter((k) => k === 'job-again')).toEqual(['job-again', 'job-again']);
    expect(b.runtime.stats).toMatchObject({ completed: 1, redeliveredWithResult: 0, resultLookups: 1 });
  });
});
