// Anchorflow benchmark, one command (`npm run bench`, which builds first; or `node bench/run.js`):
//   * the peers' plain-Node baseline (on our Node 24, and on the system Node 20 the peers used, if present),
//   * Node-RED 4.1.8 (installed by bench/node-red.js into a cache directory outside the repository),
//   * the daemon on embedded PostgreSQL, and on the external PostgreSQL at 127.0.0.1:5432 when it answers,
//   each: create + activate W1/W2, verify under 50-way concurrency, then W1 and W2 at each concurrency
//   (warm-up discarded + measured run with wrk, server pinned to SERVER_CPU, wrk to LOADER_CPU),
//   then the durability check (executions recorded vs 200 responses), then stop;
//   * bench/engine-overhead.mjs (engine only: µs per node, validate+sort of 10,000 nodes).
// Raw results go to .bench-out/<timestamp>/; the markdown table is printed (bench/report.js).
//
// Knobs (env): DURATION (10 s) WARMUP (2 s) REPS (1) CONCS ("1 10 50") TARGETS ("baseline baseline-node20
// node-red embedded external") WORKLOADS ("w1 w2") SERVER_CPU (1) LOADER_CPU (0) MAX_REQ (3,000,000 per load run)
// PG_ADMIN_URL (postgres://postgres@127.0.0.1:5432/postgres) VERIFY_N (50) ENGINE (1: run engine-overhead)
// LAYERS ("null pg pg-embedded": bench/layers.js, the engine in-process per store; 0 to skip) LAYER_SECONDS (5)
// DAEMON_LOG_LEVEL (warn) KEEP_DATA (0) OUT_DIR (.bench-out/<timestamp>)
// Diagnostic targets: embedded-nolimit, external-nolimit (webhook rate limit off; see VARIANTS below);
// embedded-base, external-base: the daemon of another checkout (BASE_DAEMON=<its apps/daemon/dist/main.js>),
// to measure a change against its baseline in the same run, as ratios.
// embedded-nochain, external-nochain (execution histories not hash-chained: what receipts cost).
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { load, loader } from './load.js';
import { renderReport } from './report.js';
import {
  HERE, NODE, PEERS_DIR, ROOT, backendPids, checkNodeRunsViaApi, commitsViaSql, countExecutionsViaApi, countExecutionsViaSql,
  createExternalDatabase, loadavg, machine, memoryMiB, ownCpuMs, pinned, portOpen, settle, sleep, startBaseline, startDaemon, treeCpuMs,
} from './targets.js';
import { verify } from './verify.js';
import { NODE_RED_DIR, ensureNodeRed, startNodeRed } from './node-red.js';
import { WORKFLOWS, nodeRedFlows, w1 as makeW1 } from './workflows.js';

const E = process.env;
const cfg = {
  duration: Number(E.DURATION ?? 10),
  warmup: Number(E.WARMUP ?? 2),
  reps: Number(E.REPS ?? 1),
  concs: (E.CONCS ?? '1 10 50').split(/[\s,]+/).filter(Boolean).map(Number),
  targets: (E.TARGETS ?? 'baseline baseline-node20 node-red embedded external').split(/[\s,]+/).filter(Boolean),
  workloads: (E.WORKLOADS ?? 'w1 w2').split(/[\s,]+/).filter(Boolean),
  serverCpu: E.SERVER_CPU ?? '1',
  loaderCpu: E.LOADER_CPU ?? '0',
  maxReq: Number(E.MAX_REQ ?? 3_000_000),
  pgAdminUrl: E.PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  verifyN: Number(E.VERIFY_N ?? 50),
  engine: E.ENGINE !== '0',
  layers: (E.LAYERS ?? 'null pg pg-embedded').split(/[\s,]+/).filter((x) => x && x !== '0'),
  layerSeconds: Number(E.LAYER_SECONDS ?? Math.min(5, Number(E.DURATION ?? 10))),
  logLevel: E.DAEMON_LOG_LEVEL ?? 'warn',
  keepData: E.KEEP_DATA === '1',
};
for (const w of cfg.workloads) if (!WORKFLOWS[w]) throw new Error(`unknown workload ${w}`);
const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
const OUT = E.OUT_DIR ?? join(ROOT, '.bench-out', stamp);
mkdirSync(OUT, { recursive: true });

const jsonl = (file, obj) => appendFileSync(join(OUT, file), `${JSON.stringify(obj)}\n`);
const log = (msg) => {
  const line = `[${new Date().toISOString().slice(11, 19)}] ${msg}`;
  console.error(line);
  appendFileSync(join(OUT, 'run.log'), `${line}\n`);
};

// ------------------------------------------------------------------ preflight

if (!existsSync(join(ROOT, 'apps/daemon/dist/main.js')) && cfg.targets.some((t) => t === 'embedded' || t === 'external')) {
  log('apps/daemon/dist/main.js is missing: build first (npm run bench runs tsc -b)');
  process.exit(1);
}
const env = {
  ...machine(),
  command: `${['DURATION', 'WARMUP', 'REPS', 'CONCS', 'TARGETS', 'WORKLOADS', 'SERVER_CPU', 'LOADER_CPU'].filter((k) => E[k] !== undefined).map((k) => `${k}=${JSON.stringify(E[k])}`).join(' ')} node bench/run.js`.trim(),
  config: cfg,
  loader: loader(),
  startedAt: new Date().toISOString(),
  loadavgStart: loadavg(),
};
// the baseline must be the peers' one: our copy differs only by its first (lint) line
const peerBaseline = join(PEERS_DIR, 'baseline-server.js');
if (existsSync(peerBaseline)) {
  const ours = readFileSync(join(HERE, 'baseline-server.cjs'), 'utf8').split('\n').slice(1).join('\n');
  env.baselineMatchesPeers = ours === readFileSync(peerBaseline, 'utf8');
  if (!env.baselineMatchesPeers) log(`WARNING: bench/baseline-server.cjs no longer matches ${peerBaseline}`);
}
// W1 must be the e2e fixture's graph
const fixture = join(ROOT, 'test/fixtures/w1.workflow.json');
if (existsSync(fixture)) {
  const f = JSON.parse(readFileSync(fixture, 'utf8'));
  const m = makeW1(f.nodes?.[0]?.params?.path ?? 'bench/w1');
  env.w1MatchesFixture = JSON.stringify([f.nodes, f.edges]) === JSON.stringify([m.nodes, m.edges]);
}
// Node-RED's flows must be the peers' ones
const peerFlows = join(PEERS_DIR, 'flows/node-red-flows.json');
if (existsSync(peerFlows)) env.nodeRedFlowsMatchPeers = `${JSON.stringify(nodeRedFlows(), null, 2)}\n` === readFileSync(peerFlows, 'utf8');
if (cfg.targets.includes('node-red')) {
  env.nodeRed = ensureNodeRed(log);
  log(env.nodeRed.skipped ? `node-red: SKIPPED (${env.nodeRed.skipped})` : `node-red ${env.nodeRed.version} in ${NODE_RED_DIR}${env.nodeRed.installSeconds ? ` (installed in ${env.nodeRed.installSeconds} s)` : ''}`);
}
const sysNode = spawnSync('sh', ['-c', 'command -v node'], { encoding: 'utf8' }).stdout.trim();
const sysNodeUsable = sysNode && env.systemNode && env.systemNode !== env.node;
const pgUp = await portOpen('127.0.0.1', Number(new URL(cfg.pgAdminUrl).port || 5432));
env.externalPostgres = pgUp ? 'reachable' : 'not reachable: external target skipped';
writeFileSync(join(OUT, 'env.json'), JSON.stringify(env, null, 1));
log(`results → ${OUT}`);
log(`machine: ${env.nproc} cpus (${env.model}), ${env.memTotalMiB} MiB, node ${env.node}, loader ${env.loader}${env.taskset ? `, server on CPU ${cfg.serverCpu}, loader on CPU ${cfg.loaderCpu}` : ', no taskset: unpinned'}; load ${env.loadavgStart}`);

let current; // the target being measured (stopped on SIGINT)
let currentDb;
let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    if (stopping) return;
    stopping = true;
    log(`${sig}: stopping ${current?.name ?? 'nothing'}`);
    await current?.stop().catch(() => undefined);
    await currentDb?.drop().catch(() => undefined);
    process.exit(130);
  });
}

// ------------------------------------------------------------------ engine-only

if (cfg.engine) {
  const la = loadavg();
  log('engine-overhead.mjs (engine only, in-process)');
  const argv = pinned(cfg.serverCpu, [NODE, join(HERE, 'engine-overhead.mjs')]);
  const r = spawnSync(argv[0], argv.slice(1), { cwd: ROOT, encoding: 'utf8', timeout: 600_000 });
  if (r.status === 0) {
    const j = JSON.parse(r.stdout);
    writeFileSync(join(OUT, 'engine.json'), JSON.stringify({ ...j, loadavgStart: la, loadavgEnd: loadavg() }, null, 1));
    for (const x of j.results) log(`  ${x.label}: ${x.usPerNodeMedian !== undefined ? `${x.usPerNodeMedian} µs/node (min ${x.usPerNodeMin})` : `${x.msMedian} ms (min ${x.msMin}) for ${x.nodes} nodes`}`);
  } else {
    log(`engine-overhead.mjs failed (${r.status}): ${r.stderr.slice(0, 1000)}`);
  }
}

// ------------------------------------------------------------------ layers (engine in-process, no HTTP)

if (cfg.layers.length) {
  log(`layers.js (engine in-process as the webhook drives it, no HTTP): ${cfg.layers.join(', ')}`);
  const argv = pinned(cfg.serverCpu, [NODE, join(HERE, 'layers.js'), `--layers=${cfg.layers.join(',')}`, `--workloads=${cfg.workloads.join(',')}`,
    `--concs=${cfg.concs.join(',')}`, `--seconds=${cfg.layerSeconds}`, `--warmup=${Math.min(cfg.warmup, 1)}`, `--pg-admin-url=${cfg.pgAdminUrl}`]);
  const r = spawnSync(argv[0], argv.slice(1), { cwd: ROOT, encoding: 'utf8', timeout: 1_800_000 });
  for (const line of r.stdout.split('\n').filter((l) => l.startsWith('{'))) {
    const x = JSON.parse(line);
    jsonl('layers.jsonl', x);
    log(x.skipped ? `  ${x.layer}: skipped (${x.skipped})` : `  ${x.layer} ${x.workload} c=${x.conc}: ${x.eps} executions/s, p50 ${x.p50_ms} ms, CPU ${x.processUsPerExec} µs/exec${x.dbUsPerExec !== undefined ? ` + Postgres ${x.dbUsPerExec}` : ''}${x.bad ? `, ${x.bad} WRONG` : ''}; load ${x.loadavg}`);
  }
  if (r.status !== 0) log(`layers.js failed (${r.status ?? r.signal}): ${r.stderr.slice(-1500)}`);
}

// ------------------------------------------------------------------ HTTP targets

/**
 * Diagnostic variants (not in the default TARGETS): `<embedded|external>-nolimit` runs the daemon with the
 * webhook rate limit switched off (security.rateLimit.hooks.limit = 0), to measure what the limiter costs.
 */
const VARIANTS = { nolimit: { ANCHORFLOW_SECURITY_RATE_LIMIT_HOOKS_LIMIT: '0' }, base: {}, nochain: { AF_BENCH_NO_HISTORY_CHAIN: '1' } };

async function startTarget(t, rep) {
  const outDir = OUT;
  const name = `${t}-rep${rep}`;
  const suffix = t.slice(t.lastIndexOf('-') + 1);
  const variant = t.includes('-') && VARIANTS[suffix] ? suffix : undefined;
  const kind = variant ? t.slice(0, t.lastIndexOf('-')) : t;
  const extraEnv = variant ? VARIANTS[variant] : {};
  let main;
  if (variant === 'base') {
    if (!E.BASE_DAEMON || !existsSync(E.BASE_DAEMON)) return { skipped: `BASE_DAEMON (${E.BASE_DAEMON ?? 'unset'}) is not a built daemon main.js` };
    main = E.BASE_DAEMON;
  }
  switch (kind) {
    case 'baseline':
      return startBaseline({ name, node: NODE, cpu: cfg.serverCpu, outDir });
    case 'baseline-node20':
      if (!sysNodeUsable) return { skipped: `no other system node (system: ${env.systemNode ?? 'none'})` };
      return startBaseline({ name, node: sysNode, cpu: cfg.serverCpu, outDir });
    case 'node-red':
      if (env.nodeRed?.skipped) return { skipped: env.nodeRed.skipped };
      return startNodeRed({ name, cpu: cfg.serverCpu, outDir, keepData: cfg.keepData });
    case 'embedded':
      return startDaemon({ name, cpu: cfg.serverCpu, outDir, logLevel: cfg.logLevel, keepData: cfg.keepData, extraEnv, main });
    case 'external': {
      if (!pgUp) return { skipped: `nothing answers at ${new URL(cfg.pgAdminUrl).host}` };
      const db = await createExternalDatabase(cfg.pgAdminUrl);
      currentDb = db;
      log(`${name}: fresh database ${db.name} (PostgreSQL ${db.settings.version}, synchronous_commit=${db.settings.synchronous_commit}, fsync=${db.settings.fsync})`);
      try {
        return await startDaemon({ name, cpu: cfg.serverCpu, outDir, db, logLevel: cfg.logLevel, keepData: cfg.keepData, extraEnv, main });
      } catch (err) {
        await db.drop().catch(() => undefined);
        currentDb = undefined;
        throw err;
      }
    }
    default:
      throw new Error(`unknown target ${t}`);
  }
}

/** CPU ms of the server process tree, plus the external database's backends for our database */
async function cpuNow(target) {
  const server = treeCpuMs(target.pids());
  const own = ownCpuMs(target.pids()[0]);
  // embedded: the daemon's child processes are its Postgres; external: the server's backends for our database
  const db = target.db ? treeCpuMs(await backendPids(target.db.client, target.db.name)) : target.kind === 'daemon' ? server - own : undefined;
  return { server, own, db };
}

async function measureTarget(t, rep) {
  let target;
  try {
    target = await startTarget(t, rep);
  } catch (err) {
    log(`${t} rep${rep}: FAILED TO START: ${err.message}`);
    jsonl('startup.jsonl', { rep, target: t, error: err.message });
    return;
  }
  if (target.skipped) {
    log(`${t} rep${rep}: SKIPPED (${target.skipped})`);
    jsonl('startup.jsonl', { rep, target: t, skipped: target.skipped });
    return;
  }
  current = target;
  const sent = Object.fromEntries(cfg.workloads.map((w) => [w, { ok200: 0, inflightAllowance: 0, loads: 0 }]));
  try {
    const st = await settle(target.urls.w1);
    if (sent.w1) sent.w1.ok200 += st.ok200 + 1; // + the first 200 that ended the start-up
    // idle memory: after start-up and the settling requests, before any load
    await sleep(1000);
    const idle = memoryMiB(target.pids());
    log(`${t} rep${rep}: up (${target.startup.listeningMs !== undefined ? `listening after ${target.startup.listeningMs} ms, ` : ''}first 200 after ${target.startup.firstOkMs} ms), settled in ${st.seconds} s; idle memory: server RSS ${idle.rss} MiB, with its children (PSS) ${idle.treePss} MiB`);
    jsonl('startup.jsonl', { rep, target: t, ...target.startup, settle: st, idleMemMiB: idle });
    const commitWindows = [];
    for (const w of cfg.workloads) {
      const url = target.urls[w];
      const v = await verify(url, w, cfg.verifyN);
      sent[w].ok200 += v.status200;
      jsonl('verify.jsonl', { rep, target: t, workload: w, ...v });
      log(`${t} rep${rep} ${w}: verify ${v.ok}/${v.n} correct${v.bad ? ` — VERIFY FAILED: ${v.errors.join(' | ')}` : ''}`);
      for (const c of cfg.concs) {
        const wu = await load(url, { conc: c, seconds: cfg.warmup, cpu: cfg.loaderCpu, maxReq: cfg.maxReq });
        account(sent[w], wu, c);
        jsonl('warmup.jsonl', { rep, target: t, workload: w, conc: c, r: wu });
        const laStart = loadavg();
        const cpu0 = await cpuNow(target);
        const from = Date.now();
        const r = await load(url, { conc: c, seconds: cfg.duration, cpu: cfg.loaderCpu, maxReq: cfg.maxReq });
        const to = Date.now();
        const cpu1 = await cpuNow(target);
        const mem = memoryMiB(target.pids());
        account(sent[w], r, c);
        const perReq = (ms) => (r.requests ? +((ms * 1000) / r.requests).toFixed(1) : undefined);
        const cpu = {
          serverMs: Math.round(cpu1.server - cpu0.server),
          serverUsPerReq: perReq(cpu1.server - cpu0.server),
          processUsPerReq: perReq(cpu1.own - cpu0.own),
          ...(cpu0.db !== undefined ? { dbMs: Math.round(cpu1.db - cpu0.db), dbUsPerReq: perReq(cpu1.db - cpu0.db) } : {}),
          external: Boolean(target.db),
        };
        const rec = { rep, target: t, workload: w, conc: c, loadavgStart: laStart, loadavg: loadavg(), from, to, cpu, memMiB: mem, r };
        if (target.workflows) commitWindows.push({ rec, workflowId: target.workflows[w] });
        jsonl('results.jsonl', rec);
        log(`${t} rep${rep} ${w} c=${c}: ${r.rps} rps, p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms, errors ${r.non2xx_or_err}, CPU/req: ${cpu.processUsPerReq} µs ${target.kind === 'daemon' ? 'daemon' : 'server'}${cpu.dbUsPerReq !== undefined ? ` + ${cpu.dbUsPerReq} µs Postgres` : ''}; RSS ${mem.rss} MiB (tree PSS ${mem.treePss}); load ${rec.loadavg}`);
      }
    }
    if (target.kind === 'daemon') {
      await durabilityCheck(target, t, rep, sent);
      if (target.db) {
        for (const { rec, workflowId } of commitWindows) {
          const g = await commitsViaSql(target.db.client, workflowId, rec.from, rec.to).catch((e) => {
            log(`${t} rep${rep}: commit count failed: ${e.message}`);
          });
          if (!g) continue;
          jsonl('commits.jsonl', { rep, target: t, workload: rec.workload, conc: rec.conc, ...g });
          log(`${t} rep${rep} ${rec.workload} c=${rec.conc}: ${g.executions} executions, ${g.events} events in ${g.transactions} commits (${(g.executions / g.transactions).toFixed(2)} executions/commit, ${Number(g.commits_per_execution).toFixed(2)} commits/execution)${g.audit ? `; audit log: ${g.audit.entries} entries in ${g.audit.transactions} commits` : ''}`);
        }
      }
    }
  } catch (err) {
    log(`${t} rep${rep}: ERROR ${err.stack ?? err}`);
    jsonl('errors.jsonl', { rep, target: t, error: String(err.stack ?? err) });
  } finally {
    const how = await target.stop().catch((e) => `stop failed: ${e.message}`);
    log(`${t} rep${rep}: stopped (${how})`);
    if (target.db) {
      await target.db.drop().then(() => log(`${t} rep${rep}: dropped ${target.db.name}`), (e) => log(`${t} rep${rep}: could not drop ${target.db.name}: ${e.message}`));
      currentDb = undefined;
    }
    current = undefined;
  }
}

/** 2xx responses count as executions the daemon must have recorded; in-flight at wrk's stop may or may not run */
function account(s, r, c) {
  const socket = (r.connect ?? 0) + (r.read ?? 0) + (r.write ?? 0) + (r.timeout ?? 0);
  const status = (r.non2xx_or_err ?? 0) - socket;
  s.ok200 += r.requests - status;
  s.inflightAllowance += c + socket;
  s.loads++;
}

async function durabilityCheck(target, t, rep, sent) {
  for (const w of cfg.workloads) {
    const workflowId = target.workflows[w];
    const nodes = WORKFLOWS[w].nodes;
    // requests cut off by wrk's stop may still be running: wait until the count is stable and nothing runs
    let via;
    for (let i = 0; i < 30; i++) {
      via = await countExecutionsViaApi(target.base, workflowId);
      if ((via.byStatus.running ?? 0) + (via.byStatus.queued ?? 0) === 0) break;
      await sleep(1000);
    }
    const runs = await checkNodeRunsViaApi(target.base, via.sample, nodes);
    const sql = target.db ? await countExecutionsViaSql(target.db.client, workflowId, nodes).catch((e) => ({ error: String(e.message ?? e) })) : undefined;
    const s = sent[w];
    const succeeded = via.byStatus.succeeded ?? 0;
    const ok = succeeded >= s.ok200 && via.total - s.ok200 <= s.inflightAllowance && succeeded === via.total
      && runs.good === runs.sampled && (!sql || sql.error !== undefined || (sql.total === via.total && sql.completeNodeRuns === sql.total && sql.nodeSucceededEvents === sql.total * nodes));
    const rec = { rep, target: t, workload: w, responses200: s.ok200, inflightAllowance: s.inflightAllowance, api: via, nodeRunSample: runs, sql, ok };
    jsonl('durability.jsonl', rec);
    log(`${t} rep${rep} ${w}: ${s.ok200} × 200 sent; API lists ${via.total} executions ${JSON.stringify(via.byStatus)} (${via.pages} pages, ${via.ms} ms); node runs of ${runs.sampled} sampled: ${runs.good} complete${sql?.error ? `; SQL check failed: ${sql.error}` : sql ? `; SQL: ${sql.total} executions, ${sql.completeNodeRuns} with all ${nodes} node.succeeded events + execution.finished and no seq gaps, ${sql.nodeSucceededEvents} node.succeeded of ${sql.events} events` : ''} → ${ok ? 'OK' : 'MISMATCH'}`);
  }
}

for (let rep = 1; rep <= cfg.reps; rep++) {
  for (const t of cfg.targets) await measureTarget(t, rep);
}

env.finishedAt = new Date().toISOString();
env.loadavgEnd = loadavg();
writeFileSync(join(OUT, 'env.json'), JSON.stringify(env, null, 1));
const md = renderReport(OUT);
writeFileSync(join(OUT, 'report.md'), md);
console.log(md);
log(`results: ${OUT}`);
