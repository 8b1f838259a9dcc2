/**
 * One contract for every ExecutionStore (issue 16): the engine's durability scenarios, run by a real
 * Engine against the in-memory store (what the engine's unit tests use) and against PgExecutionStore on
 * a real PostgreSQL. "A restart" is a new Engine on a new store over the same data (the same memory
 * store object; a new PgExecutionStore on the same database with the same owner). The Pg half needs
 * PostgreSQL (PG_TEST_URL, default 127.0.0.1:5432): skipped without it, failing under
 * ANCHORFLOW_REQUIRE_SERVICES=1.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Engine, type Clock, type EngineOptions, type ExecutionStore, type NodeJob, type WorkflowDefinition } from '@anchorflow/engine';
import { ManualClock, MemoryExecutionStore, MemoryWorkflowSource } from '@anchorflow/engine/testing';
import { canonicalJson } from '@anchorflow/plugin-sdk';
import { testCatalog } from '../../../engine/src/spec-support/harness.js';
import { compareWithModel, generateCase, modelCatalog, runModel, type ModelProbe } from '../../../engine/src/spec-support/reference-model.js';
import { InProcessTransport } from '../../../engine/src/transport/in-process.transport.js';
import { openDatabase, type Database } from '../database/open-database.js';
import { createTestDatabase } from '../testing/test-database.js';
import { PgExecutionStore } from './pg-execution-store.adapter.js';

const testDb = await createTestDatabase();

interface Backend {
  /** the store of a (re)started daemon over the same data */
  open(): ExecutionStore;
  close(): Promise<void>;
}
type BackendFactory = () => Promise<Backend>;

const memory: BackendFactory = async () => {
  const store = new MemoryExecutionStore();
  return { open: () => store, close: async () => undefined };
};

let db: Database | undefined;
const postgres: BackendFactory = async () => {
  db ??= await openDatabase({ databaseUrl: testDb!.url, dataDir: '/nonexistent' });
  const stores: PgExecutionStore[] = [];
  return {
    open: () => {
      const s = new PgExecutionStore({ pool: db!.pool }, { owner: 'contract' });
      stores.push(s);
      return s;
    },
    close: async () => { await Promise.all(stores.map((s) => s.close(2_000).catch(() => undefined))); },
  };
};

afterAll(async () => {
  await db?.close();
  await testDb?.drop();
});

const def = (nodes: Array<[string, string, Record<string, unknown>?]>): WorkflowDefinition => ({
  name: 'contract',
  nodes: nodes.map(([id, type, params]) => ({ id, type, params: params ?? {} })),
  edges: nodes.slice(1).map(([id], i) => ({ from: nodes[i]![0], to: id })),
});

const realClock: Clock = { now: () => Date.now(), setTimer: (ms, fn) => { const t = setTimeout(fn, ms); return () => clearTimeout(t); } };

async function eventually(what: string, probe: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** JSON round trip: what a store can give back (no undefined members) */
const plain = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

const backends: Array<[string, BackendFactory | undefined]> = [['MemoryExecutionStore', memory], ['PgExecutionStore (PostgreSQL)', testDb ? postgres : undefined]];

describe.each(backends)('ExecutionStore contract: %s', (_name, factory) => {
  const d = factory ? describe : describe.skip;
  d('the engine on this store', () => {
    let backend: Backend;
    const engines: Engine[] = [];
    // workflow ids are UUIDs in the database
    const W = randomUUID();

    beforeAll(async () => { backend = await factory!(); });
    afterEach(async () => { await Promise.all(engines.splice(0).map((e) => e.stop().catch(() => undefined))); });
    afterAll(async () => { await backend?.close(); });

    /** a daemon: an engine on a store over the backend's data, with the workflow registered */
    function daemon(wf: WorkflowDefinition, o: { calls?: Map<string, number>; clock?: Clock; options?: Partial<EngineOptions> } = {}) {
      const calls = o.calls ?? new Map<string, number>();
      const catalog = testCatalog(calls);
      const workflows = new MemoryWorkflowSource();
      workflows.put(W, 1, wf);
      const store = backend.open();
      const engine = new Engine({ store, transport: new InProcessTransport(catalog), catalog, workflows, clock: o.clock ?? realClock, options: o.options });
      engines.push(engine);
      return { engine, store, calls };
    }

    it('records contiguous events; the stored projection and the view folded from the events equal the live view', async () => {
      const wf = def([['t', 'test.trigger'], ['f', 'test.flaky', { failTimes: 1 }], ['s', 'test.set', { fields: { s: 1 } }]]);
      wf.nodes[1] = { ...wf.nodes[1]!, retry: { maxAttempts: 3, backoffMs: 1, factor: 1, maxBackoffMs: 1 } };
      const a = daemon(wf);
      const { executionId } = await a.engine.start({ workflowId: W, version: 1, input: { n: 7 } });
      const live = (await a.engine.whenFinished(executionId, 10_000))!;
      expect({ status: live.status, f: live.nodeRuns.find((r) => r.nodeId === 'f')?.attempt }).toEqual({ status: 'succeeded', f: 2 });
      await a.store.durable();

      const b = daemon(wf);
      const events = await b.store.events(executionId);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      expect(events.filter((e) => e.type === 'execution.finished')).toHaveLength(1);
      const stored = (await b.store.get(executionId))!;
      const { nodeRuns: _runs, ...summary } = plain(live);
      expect({ ...plain(stored), nodeRuns: undefined }).toEqual({ ...summary, nodeRuns: undefined });
      expect(plain(await b.engine.describe(executionId))).toEqual(plain(live));
      expect(await b.store.unfinished()).not.toContain(executionId);
    });

    it('after a crash a new engine resumes from the events: finished nodes never run again, the in-flight node runs with the same key', async () => {
      const wf = def([['t', 'test.trigger'], ['a', 'test.flaky', { failTimes: 0 }], ['slow', 'test.hang'], ['b', 'test.set', { fields: { b: 1 } }]]);
      const first = daemon(wf);
      const { executionId } = await first.engine.start({ workflowId: W, version: 1, input: { n: 1 } });
      await eventually('the hanging node durably started', async () => (await first.store.events(executionId)).filter((e) => e.type === 'node.started').length >= 2);
      expect({ a: first.calls.get('a'), slow: first.calls.get('slow') }).toEqual({ a: 1, slow: 1 });
      expect(await first.store.unfinished()).toContain(executionId);

      // "crash": the first engine is dropped without a word; a new one starts on the same data
      engines.splice(engines.indexOf(first.engine), 1);
      const second = daemon(wf);
      const runs: NodeJob[] = [];
      const transport = second.engine.deps.transport as { run: (job: NodeJob) => Promise<unknown> };
      transport.run = async (job) => {
        runs.push(job);
        return job.nodeId === 'slow'
          ? { kind: 'output', outputs: { main: { resumedWith: job.idempotencyKey, attempt: job.attempt } } }
          : { kind: 'output', outputs: { main: { ...(job.input as object), b: 1 } } };
      };
      expect(await second.engine.recover()).toBe(1);
      const v = (await second.engine.whenFinished(executionId, 10_000))!;
      expect({ status: v.status, output: v.output }).toEqual({ status: 'succeeded', output: { b: { resumedWith: `${executionId}:slow`, attempt: 1, b: 1 } } });
      expect(runs.map((j) => j.nodeId)).toEqual(['slow', 'b']);
      const events = await second.store.events(executionId);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      const succeeded = events.filter((e) => e.type === 'node.succeeded').map((e) => (e as { nodeId: string }).nodeId);
      expect(succeeded).toEqual(['t', 'a', 'slow', 'b']);
    });

    it('a wait beyond the wake-up horizon leaves memory, survives a restart and is woken once by the poller', async () => {
      const clock = new ManualClock(Date.now());
      const calls = new Map<string, number>();
      const wf = def([['t', 'test.trigger'], ['w', 'test.wait', { ms: 3_600_000 }], ['after', 'test.set', { fields: { done: true } }]]);
      const first = daemon(wf, { clock, calls, options: { wakeUpHorizonMs: 1000 } });
      const { executionId } = await first.engine.start({ workflowId: W, version: 1 });
      await eventually('the execution waiting', async () => (await first.store.get(executionId))?.status === 'waiting');
      await eventually('the execution evicted', () => first.engine.liveExecutions === 0);
      const wakeAt = (await first.store.get(executionId))!.wakeAt!;
      expect(wakeAt).toBeGreaterThan(clock.now() + 3_500_000);
      expect(await first.store.dueWakeUps(wakeAt - 1, 10)).not.toContainEqual(expect.objectContaining({ executionId }));
      expect(await first.store.dueWakeUps(wakeAt + 1, 10)).toContainEqual({ executionId, wakeAt });
      await first.engine.stop();

      const second = daemon(wf, { clock, calls, options: { wakeUpHorizonMs: 1000 } });
      await second.engine.recover();
      second.engine.startPolling(60_000);
      await clock.advance(wakeAt - clock.now() - 1);
      await second.store.durable();
      expect(calls.get('after')).toBeUndefined();
      // the poller's reads are real I/O on PostgreSQL: time moves on in steps while it catches up
      await eventually('the woken execution finished', async () => {
        await clock.advance(5_000);
        return (await second.store.get(executionId))?.status === 'succeeded';
      });
      const v = (await second.engine.describe(executionId))!;
      expect(v.output).toEqual({ after: { input: {}, resumed: 'timer', data: null, done: true } });
      // woken once: one resume, one run of what follows, even after more polls
      await clock.advance(61_000);
      await second.store.durable();
      const events = await second.store.events(executionId);
      expect(events.filter((e) => e.type === 'node.resumed')).toHaveLength(1);
      expect(calls.get('after')).toBe(1);
    });

    it('a resume token is found after a restart and continues the node once, with the data', async () => {
      const token = `approve-${Math.random().toString(36).slice(2)}`;
      const wf = def([['t', 'test.trigger'], ['w', 'test.wait', { token }]]);
      const first = daemon(wf);
      const { executionId } = await first.engine.start({ workflowId: W, version: 1 });
      await eventually('the execution waiting', async () => (await first.store.get(executionId))?.status === 'waiting');
      expect(await first.store.findResumeToken(token)).toEqual({ executionId, nodeId: 'w' });
      expect(await first.store.findResumeToken(`${token}-nope`)).toBeUndefined();
      await first.engine.stop();

      const second = daemon(wf);
      await second.engine.recover();
      await expect(second.engine.signal(`${token}-nope`)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      expect(await second.engine.signal(token, { approved: true })).toEqual({ executionId, nodeId: 'w' });
      const v = (await second.engine.whenFinished(executionId, 10_000))!;
      expect(v.output).toEqual({ w: { input: {}, resumed: 'signal', data: { approved: true } } });
      await expect(second.engine.signal(token)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });

    it('random graphs (the reference model cases): the engine agrees with the model, and the view a new engine folds from the stored events equals the live view', async () => {
      const seed = process.env.MODEL_SEED ? Number(process.env.MODEL_SEED) : Math.floor(Math.random() * 2 ** 30);
      const failures: string[] = [];
      for (let k = 0; k < 40 && failures.length < 3; k++) {
        const c = generateCase(seed + k);
        const probe: ModelProbe = { calls: new Map(), running: 0, maxRunning: 0 };
        const catalog = modelCatalog(probe);
        const workflows = new MemoryWorkflowSource();
        workflows.put(W, 1, c.def);
        const store = backend.open();
        const engine = new Engine({ store, transport: new InProcessTransport(catalog), catalog, workflows, clock: realClock, options: { maxConcurrentNodesPerExecution: c.maxConcurrentNodesPerExecution } });
        engines.push(engine);
        const { executionId } = await engine.start({ workflowId: W, version: 1, input: c.input });
        const live = await engine.whenFinished(executionId, 10_000);
        if (!live) { failures.push(`seed ${c.seed}: did not finish`); continue; }
        await store.durable();
        // a restarted daemon: the view comes from the stored events only
        const other = new Engine({ store: backend.open(), transport: new InProcessTransport(catalog), catalog, workflows, clock: realClock });
        engines.push(other);
        const folded = await other.describe(executionId);
        const problems = compareWithModel(c, runModel(c), live, await store.events(executionId));
        // stored events are canonical JSON (receipts' hash chain): members come back sorted, so compare canonically
        if (canonicalJson(plain(folded)) !== canonicalJson(plain(live))) problems.push(`folded ${JSON.stringify(folded)}\n  live   ${JSON.stringify(live)}`);
        if (problems.length) failures.push(`seed ${c.seed} (MODEL_SEED=${seed}): ${JSON.stringify(c.def)}\n  ${problems.join('\n  ')}`);
      }
      expect(failures).toEqual([]);
    }, 60_000);

    it('the same dedupe key never starts two executions, across a restart too', async () => {
      const wf = def([['t', 'test.trigger']]);
      const key = `tx-${Math.random().toString(36).slice(2)}`;
      const first = daemon(wf);
      const a = await first.engine.start({ workflowId: W, version: 1, dedupeKey: key });
      expect(await first.engine.start({ workflowId: W, version: 1, dedupeKey: key })).toEqual({ executionId: a.executionId, duplicate: true });
      await first.engine.whenFinished(a.executionId, 10_000);
      await first.store.durable();
      await first.engine.stop();
      const second = daemon(wf);
      expect(await second.store.findByDedupeKey(W, key)).toBe(a.executionId);
      expect(await second.engine.start({ workflowId: W, version: 1, dedupeKey: key })).toEqual({ executionId: a.executionId, duplicate: true });
    });
  });
});
