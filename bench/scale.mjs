// Memory of waiting executions, and start-up with them in the database (issue 18, "how cost grows with
// work"): the daemon on a fresh database of the external PostgreSQL, a workflow webhook → core.wait (one day,
// far beyond the engine's wake-up horizon), then N executions started through the webhook (202 each), and
// after each step the daemon's resident memory and V8 heap (from /metrics, after a pause for the group
// commits and idle GCs) and the waiting executions counted in SQL. After each step listed in --restart-at
// the daemon is stopped (SIGTERM) and started again on the same database and data dir: spawn → `listening`,
// → first 200 of GET /api/v1/health, → `engine.started` (recovery done), → first 2xx of the webhook, then
// RSS/heap after the pause. Run after `npm run build`:
//   node bench/scale.mjs [--steps=0,5000,15000] [--conc=20] [--pause=5] [--restart-at=0,15000] [--restarts=1]
//                        [--settle=0] [--gc] [--heap-snapshot] [--compare-empty]
//   node bench/scale.mjs --steps=0,25000,50000,100000 --conc=50 --pause=10 --settle=60 --heap-snapshot \
//                        --compare-empty --restarts=3                                    (issue 18)
// --settle=S: after the last step, S more seconds idle and memory again. --heap-snapshot: then a heap
// snapshot (SIGWINCH: NestJS's shutdown hooks take SIGUSR2 as a stop signal; V8 collects garbage first, so the heap used read after it is what is live) into the
// output dir. --gc: then a full GC through the inspector protocol (the daemon runs with --inspect on a
// loopback port; HeapProfiler.collectGarbage), and memory again 5 s later: whether the RSS goes back once the
// garbage is collected, without a snapshot's own allocations. --compare-empty: a second daemon on a second fresh database holding only the same workflow;
// after the last step both are restarted alternately (empty, full, empty, full, …; --restarts pairs), so
// that start-up with and without the waiting executions is compared at the same moment of the machine.
// Output: one JSON line per step on stderr, everything at the end on stdout, and .bench-out/scale-<ms>/.
import { join } from 'node:path';
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { ADMIN_KEY, ROOT, api, backendPids, freePort, createExternalDatabase, loadavg, machine, memoryMiB, ownCpuMs, respawnDaemon, sleep, startDaemon, stopProcess, treeCpuMs } from './targets.js';
import { post } from './verify.js';
import { BODY } from './workflows.js';

const args = Object.fromEntries(process.argv.slice(2).map((a) => { const [k, ...v] = a.replace(/^--/, '').split('='); return [k, v.length ? v.join('=') : 'true']; }));
const steps = (args.steps ?? '0,5000,15000').split(',').map(Number);
const restartAt = new Set((args['restart-at'] ?? '').split(',').filter(Boolean).map(Number));
const restarts = Number(args.restarts ?? 1);
const conc = Number(args.conc ?? 20);
const pause = Number(args.pause ?? 5);
const out = join(ROOT, '.bench-out', `scale-${Date.now()}`);
mkdirSync(out, { recursive: true });
const env = { ...machine(), date: new Date().toISOString(), argv: process.argv.slice(2), loadavg: loadavg() };
writeFileSync(join(out, 'env.json'), JSON.stringify(env, null, 2));
console.error(JSON.stringify({ commit: env.commit, dirtyFiles: env.dirtyFiles, date: env.date, loadavg: env.loadavg, out }));

/** V8 heap used (and total, and memory outside the heap: Buffers etc.) from the daemon's /metrics, MiB */
export async function heapMiB(base) {
  const text = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } }).then((r) => (r.ok ? r.text() : ''), () => '');
  const get = (name) => {
    const v = new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1];
    return v ? Math.round(Number(v) / 2 ** 20) : undefined;
  };
  return get('nodejs_heap_size_used_bytes');
}
export async function heapDetail(base) {
  const text = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } }).then((r) => (r.ok ? r.text() : ''), () => '');
  const get = (name) => {
    const v = new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1];
    return v ? Math.round(Number(v) / 2 ** 20) : undefined;
  };
  return { heapTotalMiB: get('nodejs_heap_size_total_bytes'), externalMiB: get('nodejs_external_memory_bytes') };
}

const db = await createExternalDatabase(args['pg-admin-url'] ?? 'postgres://postgres@127.0.0.1:5432/postgres');
// the V8 heap is read from /metrics, which wants its own token
const extraEnv = { ANCHORFLOW_METRICS_TOKEN: ADMIN_KEY };
const nodeArgs = args['heap-snapshot'] !== undefined ? ['--heapsnapshot-signal=SIGWINCH', `--diagnostic-dir=${out}`] : [];
const inspectPort = args.gc !== undefined ? await freePort() : undefined;
if (inspectPort) nodeArgs.push(`--inspect=127.0.0.1:${inspectPort}`);

/** one full garbage collection in the daemon, through the inspector (HeapProfiler.collectGarbage) */
async function collectGarbage() {
  const [{ webSocketDebuggerUrl }] = await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`)).json();
  const ws = new globalThis.WebSocket(webSocketDebuggerUrl); // Node 24's built-in client
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  const done = new Promise((resolve) => {
    ws.onmessage = (m) => {
      if (JSON.parse(m.data).id === 1) resolve();
    };
  });
  ws.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' }));
  await done;
  ws.close();
}
let daemon = await startDaemon({ name: 'scale', outDir: out, db, keepData: true, extraEnv, nodeArgs });
const dataDir = daemon.dataDir;
const WAIT_DEF = {
  name: 'scale: webhook → wait one day',
  nodes: [
    { id: 'hook', type: 'core.trigger.webhook', params: { path: 'bench/wait', method: 'POST', respond: 'immediately' } },
    { id: 'wait', type: 'core.wait', params: { ms: 86_400_000 } },
  ],
  edges: [{ from: 'hook', to: 'wait' }],
};
// the empty database of --compare-empty: same migrations, W1/W2 and the wait workflow, nothing waiting
let empty;
if (args['compare-empty'] !== undefined) {
  const edb = await createExternalDatabase(args['pg-admin-url'] ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  const d = await startDaemon({ name: 'scale-empty', outDir: out, db: edb, keepData: true, extraEnv });
  const w = await api(d.base, 'POST', '/api/v1/workflows', WAIT_DEF);
  await api(d.base, 'POST', `/api/v1/workflows/${w.id}/activate`);
  await d.stop();
  empty = { daemon: d, db: edb, dataDir: d.dataDir };
}
const rows = [];
const startups = [];
try {
  const wf = await api(daemon.base, 'POST', '/api/v1/workflows', WAIT_DEF);
  await api(daemon.base, 'POST', `/api/v1/workflows/${wf.id}/activate`);
  // the scan of the claim query recovery and the wake-up poller run (PgExecutionLeases.claimUnfinished),
  // read-only here: EXPLAIN ANALYZE of its inner SELECT, execution time in ms
  const claimScanMs = async () => {
    const { rows: [r] } = await db.client.query(`EXPLAIN (ANALYZE, FORMAT JSON) SELECT id FROM execution
      WHERE status NOT IN ('succeeded', 'failed', 'cancelled') AND (owner IS NULL OR owner = 'bench' OR lease_expires_at IS NULL OR lease_expires_at < now())
        AND NOT (status = 'waiting' AND (wake_at IS NULL OR wake_at > now() + 60000 * interval '1 millisecond'))
      ORDER BY started_at LIMIT 100`);
    return +r['QUERY PLAN'][0]['Execution Time'].toFixed(1);
  };
  const waitingInSql = async () => (await db.client.query(`SELECT count(*)::int AS n FROM execution WHERE workflow_id = $1 AND status = 'waiting'`, [wf.id])).rows[0].n;
  let started = 0;
  for (const target of steps) {
    let bad = 0;
    const t0 = performance.now();
    const url = `${daemon.base}/hooks/bench/wait`;
    const worker = async () => {
      while (started < target) {
        started++;
        const r = await post(url, BODY, 60_000).catch(() => ({ status: 0 }));
        if (r.status !== 202) bad++;
      }
    };
    await Promise.all(Array.from({ length: conc }, worker));
    const secs = (performance.now() - t0) / 1000;
    // idle cost while they wait: CPU of the daemon and of its Postgres backends during the pause (the
    // wake-up poller runs every engine.pollIntervalMs)
    // (Postgres: the backends of this database present at both ends; pool connections closed on the way
    // take their CPU time with them)
    await sleep(1000);
    const pg0 = new Map((await backendPids(db.client, db.name)).map((p) => [p, treeCpuMs([p])]));
    const d0 = ownCpuMs(daemon.child.pid);
    const i0 = performance.now();
    await sleep(pause * 1000);
    const idleSeconds = (performance.now() - i0) / 1000;
    let pgMs = 0;
    for (const p of await backendPids(db.client, db.name)) if (pg0.has(p)) pgMs += treeCpuMs([p]) - pg0.get(p);
    const idle = { idleSeconds: Math.round(idleSeconds), idleDaemonCpuPct: +(((ownCpuMs(daemon.child.pid) - d0) / 10) / idleSeconds).toFixed(2), idlePostgresCpuPct: +((pgMs / 10) / idleSeconds).toFixed(2), claimScanMs: await claimScanMs() };
    const row = {
      step: target, bad, startSeconds: +secs.toFixed(1), startedPerSecond: target ? Math.round((target - (rows.at(-1)?.step ?? 0)) / secs) : undefined,
      waitingInSql: await waitingInSql(), ...memoryMiB(daemon.pids()), heapUsedMiB: await heapMiB(daemon.base), ...(await heapDetail(daemon.base)), ...idle, loadavg: loadavg(), at: new Date().toISOString(),
    };
    rows.push(row);
    console.error(JSON.stringify(row));
    if (!restartAt.has(target)) continue;
    if (args['heap-snapshot'] !== undefined) throw new Error('--heap-snapshot with --restart-at: the restarted daemon has no snapshot signal; use --compare-empty');
    for (let r = 0; r < restarts; r++) {
      const s0 = performance.now();
      const how = await daemon.stop();
      const stopMs = Math.round(performance.now() - s0);
      const load = loadavg();
      daemon = await respawnDaemon({ ...daemon, dataDir, db }, { name: `scale-restart-${target}-${r}`, outDir: out, hookUrlPath: '/hooks/bench/wait', extraEnv });
      await sleep(pause * 1000);
      const s = {
        step: target, repetition: r, waitingInSql: await waitingInSql(), stopMs, stoppedBy: how, ...daemon.startup,
        ...memoryMiB(daemon.pids()), heapUsedMiB: await heapMiB(daemon.base), loadavgAtStart: load, at: new Date().toISOString(),
      };
      startups.push(s);
      console.error(JSON.stringify(s));
    }
    // the webhook polls of the restarts started executions too
    started = await waitingInSql();
  }
  const last = steps.at(-1);
  if (Number(args.settle ?? 0) > 0) {
    await sleep(Number(args.settle) * 1000);
    const row = { step: last, settledSeconds: Number(args.settle) + pause, waitingInSql: await waitingInSql(), ...memoryMiB(daemon.pids()), heapUsedMiB: await heapMiB(daemon.base), ...(await heapDetail(daemon.base)), loadavg: loadavg(), at: new Date().toISOString() };
    rows.push(row);
    console.error(JSON.stringify(row));
  }
  if (inspectPort) {
    const t0 = performance.now();
    await collectGarbage();
    const gcMs = Math.round(performance.now() - t0);
    await sleep(5000);
    const row = { step: last, afterFullGc: true, gcMs, waitingInSql: await waitingInSql(), ...memoryMiB(daemon.pids()), heapUsedMiB: await heapMiB(daemon.base), ...(await heapDetail(daemon.base)), loadavg: loadavg(), at: new Date().toISOString() };
    rows.push(row);
    console.error(JSON.stringify(row));
  }
  if (args['heap-snapshot'] !== undefined) {
    const before = new Set(readdirSync(out));
    process.kill(daemon.child.pid, 'SIGWINCH');
    let file;
    for (let i = 0; i < 1200 && !file; i++) {
      await sleep(500);
      file = readdirSync(out).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    }
    // written when its size stops changing
    for (let size = -1, i = 0; file && i < 1200; i++) {
      await sleep(1000);
      const now = statSync(join(out, file)).size;
      if (now === size) break;
      size = now;
    }
    const row = { step: last, heapSnapshot: file && join(out, file), afterSnapshotGc: true, ...memoryMiB(daemon.pids()), heapUsedMiB: await heapMiB(daemon.base), ...(await heapDetail(daemon.base)), loadavg: loadavg(), at: new Date().toISOString() };
    rows.push(row);
    console.error(JSON.stringify(row));
  }
  if (empty) {
    await daemon.stop();
    await sleep(Number(args.cool ?? 20) * 1000);
    const measure = async (which, r) => {
      const target = which === 'empty' ? empty : { daemon, db, dataDir };
      const load = loadavg();
      const d = await respawnDaemon({ ...target.daemon, dataDir: target.dataDir, db: target.db }, { name: `scale-${which}-${r}`, outDir: out, hookUrlPath: '/hooks/bench/wait', extraEnv });
      await sleep(pause * 1000);
      const count = which === 'empty' ? (await target.db.client.query(`SELECT count(*)::int AS n FROM execution WHERE status = 'waiting'`)).rows[0].n : await waitingInSql();
      const s = { database: which, repetition: r, waitingInSql: count, ...d.startup, ...memoryMiB(d.pids()), heapUsedMiB: await heapMiB(d.base), loadavgAtStart: load, at: new Date().toISOString() };
      s.stoppedBy = await d.stop();
      startups.push(s);
      console.error(JSON.stringify(s));
      await sleep(3000);
      return d;
    };
    for (let r = 0; r < restarts; r++) {
      await measure('empty', r);
      daemon = await measure('full', r);
    }
  }
  const result = { env, rows, startups };
  writeFileSync(join(out, 'result.json'), JSON.stringify(result, null, 2));
  console.log(JSON.stringify(result));
} finally {
  await daemon.stop();
  await stopProcess(daemon.child);
  rmSync(dataDir, { recursive: true, force: true });
  await db.drop();
  if (empty) {
    rmSync(empty.dataDir, { recursive: true, force: true });
    await empty.db.drop();
  }
}
