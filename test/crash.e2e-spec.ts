/**
 * Durability (ARCHITECTURE §4, issue 2 "what a user must be able to do" 4): SIGKILL a real daemon while
 * executions are in flight — some parked in a durable core.wait, some inside a core.http whose receiver
 * holds the request open — start a new daemon on the same data dir and database, and check that every
 * execution finishes, that nodes which had succeeded never run again, that the in-flight request is sent
 * again with the same Idempotency-Key, and that each timer fires once.
 *
 * Runs on the run's database (external PostgreSQL) or, with E2E_DB=embedded, on the embedded Postgres
 * in the data dir (which the killed daemon leaves orphaned: the new one must cope).
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Api, nodeRun, statuses, toMs, type Execution } from './support/api.js';
import { startDaemon, type Daemon } from './support/daemon.js';
import { currentRun } from './support/e2e-env.js';
import { chain, manual, node, uid, workflow } from './support/graph.js';
import { gate, startHttpReceiver, type HttpReceiver, type RecordedRequest } from './support/http-receiver.js';

const WAITING = 3;
const HANGING = 3;
const WAIT_MS = 5000;

let receiver: HttpReceiver;
const daemons: Daemon[] = [];

beforeAll(async () => {
  receiver = await startHttpReceiver();
});

afterAll(async () => {
  for (const d of daemons) await d.kill();
  await receiver?.close();
});

function byKey(requests: RecordedRequest[]): Map<string | undefined, number> {
  const counts = new Map<string | undefined, number>();
  for (const r of requests) counts.set(r.idempotencyKey, (counts.get(r.idempotencyKey) ?? 0) + 1);
  return counts;
}

it('resumes every execution after SIGKILL: no repeated nodes, same Idempotency-Key, timers fire once', async () => {
  const run = currentRun();
  const hangGate = gate();
  const tag = uid();
  const p = (name: string): string => `/${tag}/${name}`;
  receiver.on(p('hang'), () => ({ status: 200, body: { released: true }, until: hangGate.promise }));

  const first = await startDaemon({ name: 'crash', databaseUrl: run.databaseUrl });
  daemons.push(first);
  const api1 = new Api(first.url);
  const http = (id: string, path: string, extra: Record<string, unknown> = {}) =>
    node(id, 'core.http', { method: 'POST', url: receiver.url + path, body: { from: id }, ...extra }, { retry: { maxAttempts: 5, backoffMs: 100, factor: 2, maxBackoffMs: 1000 } });

  const quickWf = await api1.createWorkflow(workflow(`crash quick ${tag}`, [manual(), http('visit', p('quick'))], chain('start', 'visit')));
  const waitWf = await api1.createWorkflow(workflow(`crash wait ${tag}`, [
    manual(), http('visit', p('visit-wait')), node('pause', 'core.wait', { ms: WAIT_MS }), http('done', p('done-wait')),
  ], chain('start', 'visit', 'pause', 'done')));
  const hangWf = await api1.createWorkflow(workflow(`crash hang ${tag}`, [
    manual(), http('visit', p('visit-hang')),
    { ...http('slow', p('hang'), { timeoutMs: 120_000 }), timeoutMs: 120_000 },
    http('done', p('done-hang')),
  ], chain('start', 'visit', 'slow', 'done')));

  // one execution that is completely finished before the kill
  const quick = await api1.run(quickWf.id, { quick: true });
  expect({ status: quick.status, error: quick.error }).toEqual({ status: 'succeeded', error: undefined });

  const waitIds: string[] = [];
  for (let i = 0; i < WAITING; i++) waitIds.push(await api1.startExecution(waitWf.id, { i }));
  const parked = await Promise.all(waitIds.map((id) => api1.waitForExecution(id, (e) => e.nodeRuns?.some((r) => r.nodeId === 'pause' && r.status === 'waiting'), { what: 'pause waiting' })));

  const hangIds: string[] = [];
  for (let i = 0; i < HANGING; i++) hangIds.push(await api1.startExecution(hangWf.id, { i }));
  await receiver.waitForCount((r) => r.path === p('hang'), HANGING, { what: 'the held requests', timeoutMs: 30_000 });

  // the preconditions of the experiment: everything is in flight at the kill
  const beforeKill = await Promise.all([...waitIds, ...hangIds].map((id) => api1.getExecution(id)));
  for (const e of beforeKill) expect({ id: e.id, status: e.status, terminal: ['succeeded', 'failed', 'cancelled'].includes(e.status) }).toMatchObject({ id: e.id, terminal: false });
  for (const e of beforeKill.slice(0, WAITING)) expect({ id: e.id, pause: nodeRun(e, 'pause').status }).toEqual({ id: e.id, pause: 'waiting' });
  expect(receiver.count(p('done-wait')) + receiver.count(p('done-hang'))).toBe(0);
  const hangKeysBefore = receiver.requestsTo(p('hang')).map((r) => r.idempotencyKey);
  expect(hangKeysBefore.every((k) => typeof k === 'string' && k.length > 0)).toBe(true);
  expect(new Set(hangKeysBefore).size).toBe(HANGING);

  const killed = await first.kill();
  expect(killed.signal).toBe('SIGKILL');

  const second = await startDaemon({ name: 'crash-restart', dataDir: first.dataDir, databaseUrl: first.databaseUrl });
  daemons.push(second);
  const api2 = new Api(second.url);

  // the in-flight requests are sent again by the new daemon, then answered
  await receiver.waitForCount((r) => r.path === p('hang'), HANGING * 2, { what: 'the re-sent held requests', timeoutMs: 60_000 });
  hangGate.release();

  const finished: Execution[] = [];
  for (const id of [...waitIds, ...hangIds]) finished.push(await api2.waitForStatus(id, ['succeeded', 'failed', 'cancelled'], { timeoutMs: 60_000, intervalMs: 100 }));
  expect(finished.map((e) => ({ id: e.id, status: e.status, nodes: statuses(e) })))
    .toEqual(finished.map((e) => ({ id: e.id, status: 'succeeded', nodes: { start: 'succeeded', visit: 'succeeded', [e.workflowId === waitWf.id ? 'pause' : 'slow']: 'succeeded', done: 'succeeded' } })));

  // what had succeeded before the kill did not run again
  expect((await api2.getExecution(quick.id)).status).toBe('succeeded');
  const counts = {
    quick: receiver.count(p('quick')),
    visitWait: receiver.count(p('visit-wait')),
    visitHang: receiver.count(p('visit-hang')),
    doneWait: receiver.count(p('done-wait')),
    doneHang: receiver.count(p('done-hang')),
  };
  expect(counts).toEqual({ quick: 1, visitWait: WAITING, visitHang: HANGING, doneWait: WAITING, doneHang: HANGING });
  for (const path of ['visit-wait', 'visit-hang', 'done-wait', 'done-hang']) {
    expect({ path, distinctKeys: byKey(receiver.requestsTo(p(path))).size }).toEqual({ path, distinctKeys: path.endsWith('wait') ? WAITING : HANGING });
  }
  for (const e of finished) expect({ id: e.id, visitAttempt: nodeRun(e, 'visit').attempt }).toEqual({ id: e.id, visitAttempt: 1 });

  // the in-flight node was sent again with the same Idempotency-Key (once before, once after the kill)
  const hangKeys = byKey(receiver.requestsTo(p('hang')));
  expect(Object.fromEntries(hangKeys)).toEqual(Object.fromEntries(hangKeysBefore.map((k) => [k, 2])));

  // each timer fired once, not before its time, and not re-armed from zero by the restart
  for (const [i, id] of waitIds.entries()) {
    const events = await api2.events(id);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, j) => j + 1));
    expect({ id, pauseSucceeded: events.filter((e) => e.type === 'node.succeeded' && e.nodeId === 'pause').length, finished: events.filter((e) => e.type === 'execution.finished').length })
      .toEqual({ id, pauseSucceeded: 1, finished: 1 });
    const deadline = toMs(nodeRun(parked[i]!, 'pause').startedAt) + WAIT_MS;
    const firedAt = toMs(nodeRun(finished[i]!, 'pause').finishedAt);
    expect(firedAt).toBeGreaterThanOrEqual(deadline - 50);
    expect(firedAt).toBeLessThanOrEqual(Math.max(deadline, second.readyAt) + 5000);
  }
  for (const id of hangIds) {
    const events = await api2.events(id);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, j) => j + 1));
    expect(events.filter((e) => e.type === 'node.succeeded' && e.nodeId === 'visit')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'execution.finished')).toHaveLength(1);
  }

  // a graceful stop ends the daemon (exit 0) and, in embedded mode, its Postgres
  const stopped = await second.stop();
  expect(stopped).toEqual({ code: 0, signal: null });
  expect(second.livePostmasters()).toEqual([]);
}, 240_000);
