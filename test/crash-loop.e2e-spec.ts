/**
 * Seeded random crash loop (issue 16): one data dir and one PostgreSQL database, a real HTTP receiver,
 * and CRASH_ITERATIONS (default 50) rounds of "start the daemon, start a mix of executions (http side
 * effects, a durable wait, a retry with backoff, a branch, a diamond with a merge), SIGKILL the daemon".
 * The moment of each kill is chosen by the seeded PRNG among five kinds, taken in turn so each occurs:
 *  - `random`        a random delay after the batch was started;
 *  - `after-202`     right after the k-th `POST …/executions` answered 202;
 *  - `retry-backoff` once a flaky receiver has answered 503 (the node sits in its retry backoff);
 *  - `group-commit`  while PostgreSQL shows the daemon's event INSERT running (pg_stat_activity);
 *  - `recovery`      a few ms after a restart, while it resumes the executions the last kill left.
 * Every fifth restart the executions that have ended by then are checked; at the end the last daemon drains
 * everything and every execution is checked: it ended `succeeded` with the node statuses its input
 * implies; event seqs are 1..n; no node succeeded twice; every side-effect key is `<execution>:<node>`
 * of a node that succeeded, reached the receiver, and a node never used two keys. Re-sends (same key)
 * are counted and reported, not failed: they are the documented at-least-once edge.
 *
 * CRASH_SEED=<n> replays a run (the seed is printed first); by default every run draws a new seed.
 * Needs the run's external PostgreSQL (it watches pg_stat_activity and lists executions in SQL).
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { randomInt } from 'node:crypto';
import { verifyHistory } from '@anchorflow/engine';
import { Api, ApiError, type Execution, type ExecutionEventRecord, type WorkflowRecord } from './support/api.js';
import { startDaemon, type Daemon } from './support/daemon.js';
import { currentRun } from './support/e2e-env.js';
import { edge, manual, node, uid, workflow } from './support/graph.js';
import { startHttpReceiver, type HttpReceiver } from './support/http-receiver.js';
import { withClient } from './support/pg-admin.js';
import { rng, type Rng } from './support/prng.js';
import { requireServiceOrSkip } from './support/services.js';

const SEED = process.env.CRASH_SEED ? Number(process.env.CRASH_SEED) : randomInt(1, 2 ** 31 - 1);
const ITERATIONS = Number(process.env.CRASH_ITERATIONS ?? 50);
const KINDS = ['random', 'after-202', 'retry-backoff', 'group-commit', 'recovery'] as const;
type KillKind = (typeof KINDS)[number];
const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);

const external = currentRun().dbMode === 'external';
const itExternal = external ? it : it.skip;
if (!external) {
  requireServiceOrSkip('crash loop', 'PostgreSQL', `the run uses embedded Postgres (${currentRun().dbReason}): the loop watches pg_stat_activity of an external server`,
    { deliberate: process.env.E2E_DB === 'embedded' });
}

let receiver: HttpReceiver;
let daemon: Daemon | undefined;

beforeAll(async () => {
  receiver = await startHttpReceiver();
});

afterAll(async () => {
  await daemon?.kill();
  await receiver?.close();
});

interface Started {
  id: string;
  wf: string;
  input: { n: number };
  iteration: number;
}

/** The node statuses an execution of `wf` with `input` must end with. */
function expectedStatuses(wf: string, input: { n: number }): Record<string, string> {
  switch (wf) {
    case 'linear': return { start: 'succeeded', a: 'succeeded', b: 'succeeded' };
    case 'wait': return { start: 'succeeded', visit: 'succeeded', pause: 'succeeded', done: 'succeeded' };
    case 'retry': return { start: 'succeeded', flaky: 'succeeded', after: 'succeeded' };
    case 'branch': return input.n % 2 === 0
      ? { start: 'succeeded', check: 'succeeded', even: 'succeeded', odd: 'skipped' }
      : { start: 'succeeded', check: 'succeeded', even: 'skipped', odd: 'succeeded' };
    case 'diamond': return { start: 'succeeded', left: 'succeeded', right: 'succeeded', join: 'succeeded', after: 'succeeded' };
    default: throw new Error(`unknown workflow ${wf}`);
  }
}
const HTTP_NODES: Record<string, string[]> = {
  linear: ['a', 'b'], wait: ['visit', 'done'], retry: ['flaky', 'after'], branch: ['even', 'odd'], diamond: ['left', 'right', 'after'],
};

interface Problems { list: string[] }
function check(problems: Problems, cond: boolean, what: () => string): void {
  if (!cond && problems.list.length < 50) problems.list.push(what());
}

/** Invariants of one ended execution (events and node runs); side effects are checked at the end. */
function checkEnded(problems: Problems, s: Started, e: Execution, events: ExecutionEventRecord[], stored: Array<Record<string, unknown>>): void {
  const tag = `${s.wf} ${s.id} (iteration ${s.iteration}, n=${s.input.n})`;
  check(problems, e.status === 'succeeded', () => `${tag}: ended ${e.status} ${JSON.stringify(e.error ?? null)}`);
  const got = Object.fromEntries(e.nodeRuns.map((r) => [r.nodeId, r.status]));
  check(problems, JSON.stringify(got, Object.keys(got).sort()) === JSON.stringify(expectedStatuses(s.wf, s.input), Object.keys(got).sort()) && Object.keys(got).length === Object.keys(expectedStatuses(s.wf, s.input)).length,
    () => `${tag}: node statuses ${JSON.stringify(got)}, expected ${JSON.stringify(expectedStatuses(s.wf, s.input))}`);
  const seqs = events.map((ev) => ev.seq);
  check(problems, seqs.every((seq, i) => seq === i + 1), () => `${tag}: event seqs are not 1..${seqs.length}: ${seqs.join(',')}`);
  const succeeded = new Map<string, number>();
  for (const ev of events) if (ev.type === 'node.succeeded' && ev.nodeId) succeeded.set(ev.nodeId, (succeeded.get(ev.nodeId) ?? 0) + 1);
  for (const [nodeId, n] of succeeded) check(problems, n === 1, () => `${tag}: node ${nodeId} succeeded ${n} times`);
  const finished = events.filter((ev) => ev.type === 'execution.finished').length;
  check(problems, finished === 1, () => `${tag}: ${finished} execution.finished events`);
  // the history's hash chain (receipts) survives every kill, restart and retried flush unbroken
  const chain = verifyHistory(s.id, stored);
  check(problems, chain.ok && chain.count === events.length, () => `${tag}: history hash chain broken at ${JSON.stringify(chain.brokenAt)} (${chain.count}/${events.length} links hold)`);
}

const storedHistory = async (api: Api, id: string): Promise<Array<Record<string, unknown>>> =>
  ((await api.get<{ items: Array<Record<string, unknown>> }>(`/api/v1/executions/${id}/events?format=receipt`)).body.items);

itExternal(`survives ${ITERATIONS} SIGKILLs at random moments (seed ${SEED}, CRASH_SEED to replay)`, async () => {
  process.stdout.write(`[crash-loop] seed ${SEED} (replay: CRASH_SEED=${SEED}), ${ITERATIONS} iterations\n`);
  const r: Rng = rng(SEED);
  const tag = uid();
  const p = (nodeId: string): string => `/${tag}/${nodeId}`;
  const key503 = new Set<string>();
  let answered503 = 0;
  // every side effect answers after a short random delay, so kills land while requests are open
  const delayed = (): { status: number; body: { ok: true }; delayMs: number } => ({ status: 200, body: { ok: true }, delayMs: r.int(0, 40) });
  for (const id of ['a', 'b', 'visit', 'done', 'after', 'even', 'odd', 'left', 'right']) receiver.on(p(id), delayed);
  receiver.on(p('after'), delayed);
  // the flaky endpoint refuses the first request of every key with 503: the node then waits in its backoff
  receiver.on(p('flaky'), (req) => {
    const key = req.idempotencyKey ?? '';
    if (!key503.has(key)) { key503.add(key); answered503++; return { status: 503, body: { retry: true } }; }
    return delayed();
  });

  const started: Started[] = [];
  const kills: Record<KillKind, number> = { random: 0, 'after-202': 0, 'retry-backoff': 0, 'group-commit': 0, recovery: 0 };
  let commitsCaught = 0;
  let recoveryWithWork = 0;
  let lostPosts = 0;
  const checked = new Set<string>();
  const problems: Problems = { list: [] };

  daemon = await startDaemon({ name: 'crash-loop' });
  const databaseUrl = daemon.databaseUrl!;
  const dataDir = daemon.dataDir;
  const setup = new Api(daemon.url);
  const http = (id: string, extra: Record<string, unknown> = {}) =>
    node(id, 'core.http', { method: 'POST', url: receiver.url + p(id), body: { node: id } }, { retry: { maxAttempts: 4, backoffMs: 250, factor: 1, maxBackoffMs: 250 }, ...extra });
  const defs: Record<string, WorkflowRecord> = {
    linear: await setup.createWorkflow(workflow(`loop linear ${tag}`, [manual(), http('a'), http('b')], [edge('start', 'a'), edge('a', 'b')])),
    wait: await setup.createWorkflow(workflow(`loop wait ${tag}`, [manual(), http('visit'), node('pause', 'core.wait', { ms: 300 }), http('done')],
      [edge('start', 'visit'), edge('visit', 'pause'), edge('pause', 'done')])),
    retry: await setup.createWorkflow(workflow(`loop retry ${tag}`, [manual(), http('flaky'), http('after')], [edge('start', 'flaky'), edge('flaky', 'after')])),
    branch: await setup.createWorkflow(workflow(`loop branch ${tag}`, [manual(), node('check', 'core.if', { condition: 'n % 2 = 0' }), http('even'), http('odd')],
      [edge('start', 'check'), edge('check', 'even', 'true'), edge('check', 'odd', 'false')])),
    diamond: await setup.createWorkflow(workflow(`loop diamond ${tag}`, [manual(), http('left'), http('right'), node('join', 'core.merge', { mode: 'object' }), http('after')],
      [edge('start', 'left'), edge('start', 'right'), edge('left', 'join'), edge('right', 'join'), edge('join', 'after')])),
  };
  const wfName = new Map(Object.entries(defs).map(([k, v]) => [v.id, k]));

  const sql = <T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> =>
    withClient(databaseUrl, async (c) => (await c.query(text, params)).rows as T[]);

  /** starts one execution; resolves undefined when the daemon died before answering */
  const start = async (api: Api, iteration: number): Promise<Started | undefined> => {
    const wf = r.pick(Object.keys(defs));
    const input = { n: r.int(0, 1000) };
    try {
      const id = await api.startExecution(defs[wf]!.id, input);
      const s = { id, wf, input, iteration };
      started.push(s);
      return s;
    } catch (err) {
      if (err instanceof ApiError) throw err; // an answer, but the wrong one: a real failure
      lostPosts++;
      return undefined;
    }
  };

  /** checks the executions of earlier iterations that have ended by now (each once) */
  const checkEndedSoFar = async (api: Api): Promise<void> => {
    const rows = await sql<{ id: string; status: string }>('SELECT id, status FROM execution');
    for (const row of rows) {
      if (checked.has(row.id) || !TERMINAL.has(row.status)) continue;
      const s = started.find((x) => x.id === row.id);
      if (!s) continue; // a start whose 202 never arrived: checked at the end
      checkEnded(problems, s, await api.getExecution(row.id), await api.events(row.id), await storedHistory(api, row.id));
      checked.add(row.id);
    }
  };

  /** resolves once PostgreSQL runs an event INSERT of this daemon's database, or after `ms` */
  const whenCommitting = async (ms: number): Promise<boolean> => withClient(databaseUrl, async (c) => {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const { rows } = await c.query(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid() AND query ILIKE '%INSERT INTO execution_event%'");
      if ((rows[0]?.n as number) > 0) return true;
    }
    return false;
  });

  for (let i = 0; i < ITERATIONS; i++) {
    const kind = KINDS[i % KINDS.length]!;
    if (i > 0 && i % 10 === 0) process.stdout.write(`[crash-loop] ${i}/${ITERATIONS} kills done, ${started.length} executions started\n`);
    if (i > 0) {
      daemon = await startDaemon({ name: `crash-loop-${i}`, dataDir, databaseUrl });
      if (kind === 'recovery') {
        // kill while it resumes what the last kill left in flight
        const inFlight = (await sql<{ n: number }>("SELECT count(*)::int AS n FROM execution WHERE status NOT IN ('succeeded','failed','cancelled')"))[0]!.n;
        if (inFlight > 0) recoveryWithWork++;
        await new Promise((res) => setTimeout(res, r.int(0, 120)));
        kills.recovery++;
        await daemon.kill();
        continue;
      }
    }
    const api = new Api(daemon.url);
    if (i > 0 && i % 5 === 1) await checkEndedSoFar(api);
    const batch = r.int(3, 6);
    switch (kind) {
      case 'recovery':
      case 'random': {
        const posts = Array.from({ length: batch }, () => start(api, i));
        await Promise.race([Promise.all(posts), new Promise((res) => setTimeout(res, r.int(0, 150)))]);
        await new Promise((res) => setTimeout(res, r.int(0, 400)));
        break;
      }
      case 'after-202': {
        const k = r.int(1, batch);
        for (let j = 0; j < k; j++) await start(api, i);
        break; // killed right after the k-th 202
      }
      case 'retry-backoff': {
        const before = answered503;
        const s = await startRetry(api, i);
        for (let j = 1; j < batch; j++) void start(api, i);
        if (s) await receiver.waitFor((req) => req.path === p('flaky') && key503.has(req.idempotencyKey ?? '') && answered503 > before, { what: 'a 503 from the flaky endpoint', timeoutMs: 15_000 });
        await new Promise((res) => setTimeout(res, r.int(0, 200))); // inside the 250 ms backoff
        break;
      }
      case 'group-commit': {
        const watching = whenCommitting(3000);
        for (let j = 0; j < batch + 2; j++) void start(api, i);
        if (await watching) commitsCaught++;
        break;
      }
    }
    kills[kind]++;
    await daemon.kill();
  }

  /** starts an execution of the retry workflow (the retry-backoff kill waits for its 503) */
  async function startRetry(api: Api, iteration: number): Promise<Started | undefined> {
    const input = { n: r.int(0, 1000) };
    try {
      const id = await api.startExecution(defs.retry!.id, input);
      const s = { id, wf: 'retry', input, iteration };
      started.push(s);
      return s;
    } catch (err) {
      if (err instanceof ApiError) throw err;
      lostPosts++;
      return undefined;
    }
  }

  // the last daemon drains everything
  daemon = await startDaemon({ name: 'crash-loop-final', dataDir, databaseUrl });
  const api = new Api(daemon.url);
  const deadline = Date.now() + 60_000;
  let open: Array<{ id: string; status: string }>;
  for (;;) {
    open = await sql<{ id: string; status: string }>("SELECT id, status FROM execution WHERE status NOT IN ('succeeded','failed','cancelled')");
    if (open.length === 0 || Date.now() > deadline) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  expect({ seed: SEED, notEnded: open }).toEqual({ seed: SEED, notEnded: [] });

  // every 202 is an execution; a start whose answer the kill swallowed may exist too: it must end as well
  const rows = await sql<{ id: string; workflow_id: string; status: string; input: unknown }>('SELECT id, workflow_id, status, input FROM execution');
  const ids = new Set(rows.map((row) => row.id));
  expect({ seed: SEED, lost: started.filter((s) => !ids.has(s.id)).map((s) => s.id) }).toEqual({ seed: SEED, lost: [] });
  for (const row of rows) {
    if (checked.has(row.id)) continue;
    const known = started.find((s) => s.id === row.id);
    const input = typeof row.input === 'string' ? JSON.parse(row.input) as { n: number } : row.input as { n: number };
    const s = known ?? { id: row.id, wf: wfName.get(row.workflow_id)!, input, iteration: -1 };
    if (!known) started.push(s);
    checkEnded(problems, s, await api.getExecution(row.id), await api.events(row.id), await storedHistory(api, row.id));
  }

  // side effects: one key per node that ran, `<execution>:<node>`, on that node's path; re-sends counted
  const byKey = new Map<string, { path: string; count: number }>();
  let unkeyed = 0;
  for (const req of receiver.requests) {
    if (!req.path.startsWith(`/${tag}/`)) continue;
    if (!req.idempotencyKey) { unkeyed++; continue; }
    const entry = byKey.get(req.idempotencyKey) ?? { path: req.path, count: 0 };
    check(problems, entry.path === req.path, () => `key ${req.idempotencyKey} sent to ${entry.path} and ${req.path}`);
    entry.count++;
    byKey.set(req.idempotencyKey, entry);
  }
  check(problems, unkeyed === 0, () => `${unkeyed} side-effect request(s) without an Idempotency-Key`);
  let resends = 0;
  const expectedKeys = new Set<string>();
  for (const s of started) {
    const statuses = expectedStatuses(s.wf, s.input);
    for (const nodeId of HTTP_NODES[s.wf]!) {
      const key = `${s.id}:${nodeId}`;
      const sent = byKey.get(key);
      if (statuses[nodeId] === 'skipped') { check(problems, !sent, () => `${key}: a skipped node sent ${sent?.count} request(s)`); continue; }
      expectedKeys.add(key);
      check(problems, sent?.path === p(nodeId), () => `${key}: expected its request(s) on ${p(nodeId)}, got ${sent ? sent.path : 'none'}`);
      const designed = nodeId === 'flaky' ? 2 : 1; // the flaky endpoint refuses each key once
      check(problems, !sent || sent.count >= designed, () => `${key}: ${sent?.count} request(s), fewer than the ${designed} it takes to succeed`);
      if (sent) resends += Math.max(0, sent.count - designed);
    }
  }
  const strangers = [...byKey.keys()].filter((k) => !expectedKeys.has(k));
  check(problems, strangers.length === 0, () => `keys of no node that should run: ${strangers.slice(0, 10).join(', ')}`);

  const summary = {
    seed: SEED, iterations: ITERATIONS, executions: started.length, kills, commitsCaught, recoveryWithWork, lostPosts,
    sideEffectKeys: expectedKeys.size, requests: [...byKey.values()].reduce((n, e) => n + e.count, 0), resends,
  };
  process.stdout.write(`[crash-loop] ${JSON.stringify(summary)}\n`);
  expect({ seed: SEED, problems: problems.list }).toEqual({ seed: SEED, problems: [] });
  // the kinds of kill really happened: a retry backoff was hit, and most group-commit kills caught an INSERT
  expect(kills).toEqual(Object.fromEntries(KINDS.map((k, idx) => [k, Math.floor(ITERATIONS / KINDS.length) + (idx < ITERATIONS % KINDS.length ? 1 : 0)])));
  expect(commitsCaught).toBeGreaterThan(0);

  const stopped = await daemon.stop();
  expect(stopped).toEqual({ code: 0, signal: null });
}, 600_000);
