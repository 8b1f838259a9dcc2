// W1 throughput with 1,000,000 finished executions in the database (issue 18, "how cost grows with work").
// Two fresh databases of the external PostgreSQL (dropped afterwards), each provisioned by the daemon built
// from this checkout (migrations, W1 + W2 created and activated) and given the same few real W1 requests;
// then, daemon stopped, the "full" one gets --rows finished W1 executions copied in SQL from one of its real
// finished executions (new uuids, start times spread back over the past; every table a finished W1
// execution has rows in is copied, see below), VACUUM ANALYZE on both. Then W1 at c=--conc, interleaved:
// empty, full, empty, full, … (--reps pairs), each a fresh daemon start on that database pinned to
// SERVER_CPU, wrk pinned to LOADER_CPU (autocannon if wrk is missing), --warmup s discarded, --seconds s
// measured (after VACUUM ANALYZE and a CHECKPOINT): rps, p50/p99, daemon CPU µs per request (its own user+system time from /proc) and Postgres CPU µs
// per request (the backends connected to that database), 1-minute load average at start and end.
// Which rows a finished W1 execution has is not assumed: the script counts every table's rows before and
// after the real requests and prints them; `execution` and `execution_event` are copied; the hash-chained
// `audit_entry` is not (fake entries would break its chain; see BENCHMARKS.md), and any other table that
// grows per execution makes the script stop and say so.
// Run after `npm run build`:
//   node bench/finished-history.mjs [--rows=1000000] [--reps=2] [--seconds=10] [--warmup=3] [--conc=10]
import { join } from 'node:path';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { backendPids, createExternalDatabase, loadavg, machine, memoryMiB, ownCpuMs, respawnDaemon, ROOT, settle, sleep, startDaemon, treeCpuMs } from './targets.js';
import { load } from './load.js';
import { verify } from './verify.js';

const args = Object.fromEntries(process.argv.slice(2).map((a) => { const [k, ...v] = a.replace(/^--/, '').split('='); return [k, v.length ? v.join('=') : 'true']; }));
const ROWS = Number(args.rows ?? 1_000_000);
const REPS = Number(args.reps ?? 2);
const SECONDS = Number(args.seconds ?? 10);
const WARMUP = Number(args.warmup ?? 3);
const CONC = Number(args.conc ?? 10);
const SERVER_CPU = process.env.SERVER_CPU ?? '1';
const LOADER_CPU = process.env.LOADER_CPU ?? '0';
const ADMIN_URL = args['pg-admin-url'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const out = join(ROOT, '.bench-out', `finished-history-${Date.now()}`);
mkdirSync(out, { recursive: true });
const env = { ...machine(), date: new Date().toISOString(), argv: process.argv.slice(2), loadavg: loadavg(), serverCpu: SERVER_CPU, loaderCpu: LOADER_CPU };
writeFileSync(join(out, 'env.json'), JSON.stringify(env, null, 2));
const log = (o) => console.error(JSON.stringify(o));
log({ commit: env.commit, dirtyFiles: env.dirtyFiles, date: env.date, loadavg: env.loadavg, out });

async function tableCounts(client) {
  const { rows } = await client.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`);
  const counts = {};
  for (const { tablename } of rows) counts[tablename] = (await client.query(`SELECT count(*)::int AS n FROM "${tablename}"`)).rows[0].n;
  return counts;
}

/** a database with W1 (and W2) and `requests` real W1 executions; daemon stopped, data dir kept */
async function provision(name, requests = 20) {
  const db = await createExternalDatabase(ADMIN_URL);
  const d = await startDaemon({ name: `${name}-provision`, outDir: out, db, keepData: true });
  const before = await tableCounts(db.client);
  const check = await verify(d.urls.w1, 'w1', requests);
  await sleep(1500);
  const after = await tableCounts(db.client);
  await d.stop();
  return { name, db, daemon: d, dataDir: d.dataDir, workflowId: d.workflows.w1, check, before, after };
}

const t = { empty: undefined, full: undefined };
const results = { env, points: [] };
const save = () => writeFileSync(join(out, 'result.json'), JSON.stringify(results, null, 2));
try {
  t.empty = await provision('empty');
  t.full = await provision('full');
  const grew = Object.keys(t.full.after).filter((k) => t.full.after[k] !== t.full.before[k]);
  results.rowsPerRealRequests = Object.fromEntries(grew.map((k) => [k, t.full.after[k] - t.full.before[k]]));
  results.verify = { empty: t.empty.check, full: t.full.check };
  log({ tablesThatGrewWithRealW1Requests: results.rowsPerRealRequests, verify: results.verify });
  const unknown = grew.filter((k) => !['execution', 'execution_event', 'audit_entry'].includes(k));
  if (unknown.length) throw new Error(`tables that grow per W1 execution and are not copied: ${unknown.join(', ')}`);

  // ------------------------------------------------------------ fill: ROWS copies of a real finished W1 execution
  const c = t.full.db.client;
  const { rows: [tmpl] } = await c.query(`SELECT id::text, started_at, finished_at FROM execution WHERE workflow_id = $1 AND status = 'succeeded' ORDER BY started_at LIMIT 1`, [t.full.workflowId]);
  const cols = (await c.query(`SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'execution' ORDER BY ordinal_position`)).rows.map((r) => r.column_name);
  const evCols = (await c.query(`SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'execution_event' ORDER BY ordinal_position`)).rows.map((r) => r.column_name);
  const { rows: [evInfo] } = await c.query(`SELECT count(*)::int AS chunks, bool_or(position($2 in events) > 0) AS names_its_id FROM execution_event WHERE execution_id = $1`, [tmpl.id, tmpl.id]);
  // spread back in time before the real ones, one every 100 ms (~28 h for 1,000,000)
  const override = {
    id: 'ids.id',
    started_at: `e.started_at - ids.g * interval '100 milliseconds'`,
    finished_at: `e.finished_at - ids.g * interval '100 milliseconds'`,
    updated_at: `e.updated_at - ids.g * interval '100 milliseconds'`,
    dedupe_key: `CASE WHEN e.dedupe_key IS NULL THEN NULL ELSE e.dedupe_key || '-' || ids.g END`,
  };
  const evOverride = { execution_id: 'ids.id', events: evInfo.names_its_id ? `replace(ev.events, '${tmpl.id}', ids.id::text)` : 'ev.events' };
  const f0 = performance.now();
  await c.query(`CREATE TEMP TABLE ids AS SELECT g, gen_random_uuid() AS id FROM generate_series(1, ${ROWS}) g`);
  await c.query(`INSERT INTO execution (${cols.map((x) => `"${x}"`).join(', ')}) SELECT ${cols.map((x) => override[x] ?? `e."${x}"`).join(', ')} FROM ids, execution e WHERE e.id = '${tmpl.id}'`);
  const execMs = performance.now() - f0;
  await c.query(`INSERT INTO execution_event (${evCols.map((x) => `"${x}"`).join(', ')}) SELECT ${evCols.map((x) => evOverride[x] ?? `ev."${x}"`).join(', ')} FROM ids, execution_event ev WHERE ev.execution_id = '${tmpl.id}'`);
  const fillMs = performance.now() - f0;
  for (const x of [t.empty, t.full]) await x.db.client.query('VACUUM ANALYZE');
  // write the fill out before measuring (the first run's first point, right after a 2.7 GB fill, was low);
  // CHECKPOINT needs a superuser or pg_checkpoint: skipped, and said so, without
  results.checkpoint = await c.query('CHECKPOINT').then(() => 'done', (e) => `skipped: ${e.message}`);
  const sizes = async (cl) => (await cl.query(`SELECT relname, pg_total_relation_size(oid)::bigint AS bytes FROM pg_class WHERE relname IN ('execution', 'execution_event', 'audit_entry')`)).rows.reduce((o, r) => ({ ...o, [r.relname]: `${(Number(r.bytes) / 2 ** 20).toFixed(1)} MiB` }), {});
  results.fill = {
    rows: ROWS, template: tmpl.id, eventChunksPerExecution: evInfo.chunks, eventsNameTheExecutionId: evInfo.names_its_id,
    executionSeconds: +(execMs / 1000).toFixed(1), totalSecondsWithEvents: +(fillMs / 1000).toFixed(1),
    counts: { empty: await tableCounts(t.empty.db.client), full: await tableCounts(c) }, sizes: { empty: await sizes(t.empty.db.client), full: await sizes(c) },
  };
  log({ fill: results.fill });
  save();

  // ------------------------------------------------------------ W1 at CONC, interleaved
  for (let rep = 0; rep < REPS; rep++) {
    for (const which of ['empty', 'full']) {
      const x = t[which];
      const loadStart = loadavg();
      const d = await respawnDaemon({ ...x.daemon, dataDir: x.dataDir, db: x.db }, { name: `${which}-${rep}`, outDir: out, logLevel: 'warn', cpu: SERVER_CPU });
      try {
        const url = `${d.base}/hooks/bench/w1`;
        const settled = await settle(url);
        const execBefore = (await x.db.client.query('SELECT count(*)::int AS n FROM execution')).rows[0].n;
        const wu = await load(url, { conc: CONC, seconds: WARMUP, cpu: LOADER_CPU });
        const pg = await backendPids(x.db.client, x.db.name);
        const own0 = ownCpuMs(d.child.pid);
        const pg0 = treeCpuMs(pg);
        const r = await load(url, { conc: CONC, seconds: SECONDS, cpu: LOADER_CPU });
        const own1 = ownCpuMs(d.child.pid);
        const pg1 = treeCpuMs(pg);
        const ok = Math.round(r.rps * r.duration_s);
        await sleep(1000);
        const execAfter = (await x.db.client.query('SELECT count(*)::int AS n FROM execution')).rows[0].n;
        const p = {
          database: which, rep, finishedInDb: execBefore, rps: r.rps, p50_ms: r.p50_ms, p99_ms: r.p99_ms, errors: r.non2xx_or_err, loader: r.loader,
          daemonCpuUsPerReq: Math.round(((own1 - own0) * 1000) / ok), postgresCpuUsPerReq: Math.round(((pg1 - pg0) * 1000) / ok),
          // every 2xx (settle's, warm-up's, measured) has its execution: added ≥ their sum (requests in flight when wrk stops add a few)
          executionsAdded: execAfter - execBefore, twoXx: { warmup: Math.round(wu.rps * wu.duration_s), measured: ok }, settled, startup: d.startup, ...memoryMiB(d.pids()), loadavgStart: loadStart, loadavgEnd: loadavg(), at: new Date().toISOString(),
        };
        results.points.push(p);
        log(p);
        save();
      } finally {
        await d.stop();
      }
      await sleep(2000);
    }
  }
  const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
  for (const which of ['empty', 'full']) {
    const ps = results.points.filter((p) => p.database === which);
    results[`${which}Median`] = { rps: med(ps.map((p) => p.rps)), daemonCpuUsPerReq: med(ps.map((p) => p.daemonCpuUsPerReq)), postgresCpuUsPerReq: med(ps.map((p) => p.postgresCpuUsPerReq)) };
  }
  results.fullOverEmpty = { rps: +(results.fullMedian.rps / results.emptyMedian.rps).toFixed(3), daemonCpu: +(results.fullMedian.daemonCpuUsPerReq / results.emptyMedian.daemonCpuUsPerReq).toFixed(3) };
  log({ emptyMedian: results.emptyMedian, fullMedian: results.fullMedian, fullOverEmpty: results.fullOverEmpty });
  save();
  console.log(JSON.stringify(results));
} finally {
  for (const x of Object.values(t)) {
    if (!x) continue;
    rmSync(x.dataDir, { recursive: true, force: true });
    await x.db.drop().catch(() => undefined);
  }
}
