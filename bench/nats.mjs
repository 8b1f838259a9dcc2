// W1 over NATS: webhook → 10 × bench.set (core.set under another type name, bench/nats-plugin) executed
// by plugin workers (apps/worker) over NATS JetStream, against the same workflow with the same plugin
// loaded in the daemon (in-process transport). Throughput with 1, 2 and 4 workers, and the per-job cost
// NATS adds (latency at concurrency 1, CPU per request of every process involved).
//
//   npm run build && node bench/nats.mjs                 # defaults below (~6 min)
//   DURATION=3 WARMUP=1 CONCS="1 10" node bench/nats.mjs # quick look
//
// Knobs (env): DURATION (10 s) WARMUP (2 s) CONCS ("1 10 50") TARGETS ("inproc nats-1 nats-2 nats-4";
// also "core": the standard W1 on core.set, in process) WORKER_CONCURRENCY (16) SERVER_CPU (1: the daemon)
// LOADER_CPU (0: wrk) WORKER_CPU / NATS_CPU ('' = unpinned) PG_ADMIN_URL (postgres://postgres@127.0.0.1:5432/postgres)
// NATS_URL (default: a nats-server of this run on a free port and a temp store dir when the binary is
// installed, else nats://127.0.0.1:4222 with a unique prefix) MAX_REQ (3,000,000) OUT_DIR.
// Writes .bench-out/nats-<timestamp>/{results.jsonl,report.md,*.log}; prints the report.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { load, loader } from './load.js';
import {
  DAEMON_MAIN, HERE, NODE, ROOT, backendPids, createExternalDatabase, freePort, loadavg, machine,
  pinned, settle, sleep, spawnServer, stopProcess, treeCpuMs, waitFor200,
} from './targets.js';
import { verify } from './verify.js';
import { w1 } from './workflows.js';

const E = process.env;
const cfg = {
  duration: Number(E.DURATION ?? 10),
  warmup: Number(E.WARMUP ?? 2),
  concs: (E.CONCS ?? '1 10 50').split(/\s+/).filter(Boolean).map(Number),
  targets: (E.TARGETS ?? 'inproc nats-1 nats-2 nats-4').split(/\s+/).filter(Boolean),
  workerConcurrency: Number(E.WORKER_CONCURRENCY ?? 16),
  serverCpu: E.SERVER_CPU ?? '1',
  loaderCpu: E.LOADER_CPU ?? '0',
  workerCpu: E.WORKER_CPU ?? '',
  natsCpu: E.NATS_CPU ?? '',
  adminUrl: E.PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  maxReq: Number(E.MAX_REQ ?? 3_000_000),
  // extra node flags for the daemon, e.g. DAEMON_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"
  daemonNodeArgs: (E.DAEMON_NODE_ARGS ?? '').split(/\s+/).filter(Boolean),
};
const PLUGIN_DIR = join(HERE, 'nats-plugin');
// the daemons of this run are provisioned with this admin API key (REST needs one; webhooks do not)
const ADMIN_KEY = `afk_${randomBytes(8).toString('hex')}_${randomBytes(32).toString('base64url')}`;

async function api(base, method, path, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${text.slice(0, 500)}`);
  return text ? JSON.parse(text) : undefined;
}
const WORKER_MAIN = join(ROOT, 'apps/worker/dist/main.js');
const NATS_BIN = ['/usr/sbin/nats-server', '/usr/local/bin/nats-server', '/usr/bin/nats-server'].find((p) => existsSync(p));
const outDir = E.OUT_DIR ?? join(ROOT, '.bench-out', `nats-${new Date().toISOString().replace(/[:.]/g, '-')}`);
mkdirSync(outDir, { recursive: true });
const log = (msg) => {
  const line = `[${new Date().toISOString().slice(11, 19)}] ${msg}`;
  console.log(line);
  appendFileSync(join(outDir, 'run.log'), `${line}\n`);
};

/** W1 with bench.set (the remote type) instead of core.set; the same response */
function w1Remote(path) {
  const def = w1(path);
  return { ...def, name: 'W1 (bench.set): webhook → 10 × bench.set → response', nodes: def.nodes.map((n) => (n.type === 'core.set' ? { ...n, type: 'bench.set' } : n)) };
}

// ------------------------------------------------------------------ NATS

async function startNats() {
  if (E.NATS_URL) return { url: E.NATS_URL, pid: undefined, own: false, stop: async () => undefined };
  if (!NATS_BIN) return { url: 'nats://127.0.0.1:4222', pid: undefined, own: false, stop: async () => undefined };
  const port = await freePort();
  const store = mkdtempSync(join(os.tmpdir(), 'af-bench-nats-'));
  const argv = pinned(cfg.natsCpu, [NATS_BIN, '-a', '127.0.0.1', '-p', String(port), '-js', '-sd', store]);
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`nats-server not ready in 10 s: ${text}`)), 10_000);
    child.stderr.on('data', (d) => {
      text += d;
      if (/Server is ready/.test(text)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`nats-server exited ${code}: ${text}`)));
  });
  child.removeAllListeners('exit');
  child.stderr.resume();
  return {
    url: `nats://127.0.0.1:${port}`, pid: child.pid, own: true,
    async stop() {
      await stopProcess(child, 5000);
      rmSync(store, { recursive: true, force: true });
    },
  };
}

// ------------------------------------------------------------------ daemon and workers

async function startBenchDaemon({ name, db, env }) {
  const dataDir = mkdtempSync(join(os.tmpdir(), `af-bench-${name}-`));
  chmodSync(dataDir, 0o755);
  const fullEnv = { ...process.env, PORT: '0', HOST: '127.0.0.1', ANCHORFLOW_DATA_DIR: dataDir, ANCHORFLOW_LOG_LEVEL: 'warn', ANCHORFLOW_LOG_REQUESTS: 'false', ANCHORFLOW_ADMIN_KEY: ADMIN_KEY, DATABASE_URL: db.url, ...env };
  delete fullEnv.NODE_OPTIONS;
  if (!env.NATS_URL) delete fullEnv.NATS_URL;
  const { child, found } = await spawnServer(pinned(cfg.serverCpu, [NODE, ...cfg.daemonNodeArgs, DAEMON_MAIN]), {
    env: fullEnv,
    logFile: join(outDir, `${name}.daemon.log`),
    ready: (line) => {
      if (!line.includes('"listening"')) return undefined;
      try {
        const j = JSON.parse(line);
        return j.event === 'listening' ? j.url : undefined;
      } catch {
        return undefined;
      }
    },
  });
  return {
    base: found, child,
    async stop() {
      const how = await stopProcess(child);
      rmSync(dataDir, { recursive: true, force: true });
      return how;
    },
  };
}

async function startBenchWorker({ name, natsUrl, prefix }) {
  const env = {
    PATH: process.env.PATH ?? '',
    NATS_URL: natsUrl,
    ANCHORFLOW_NATS_PREFIX: prefix,
    ANCHORFLOW_WORKER_PLUGINS: PLUGIN_DIR,
    ANCHORFLOW_WORKER_CONCURRENCY: String(cfg.workerConcurrency),
    ANCHORFLOW_WORKER_HEARTBEAT_MS: '1000',
    ANCHORFLOW_LOG_LEVEL: 'warn',
  };
  // "worker ready" is an info line: wait for the daemon to list the worker instead
  const { child } = await spawnServer(pinned(cfg.workerCpu, [NODE, WORKER_MAIN]), { env, logFile: join(outDir, `${name}.log`) });
  return { child, stop: () => stopProcess(child) };
}

async function waitForWorkers(base, n, timeoutMs = 30_000) {
  const t0 = performance.now();
  for (;;) {
    const types = await api(base, 'GET', '/api/v1/node-types');
    const t = types.items.find((i) => i.type === 'bench.set');
    if (t?.remote && (t.workers?.length ?? 0) >= n) return t.workers;
    if (performance.now() - t0 > timeoutMs) throw new Error(`bench.set not served by ${n} worker(s) within ${timeoutMs} ms: ${JSON.stringify(t)}`);
    await sleep(200);
  }
}

/** executions of the workflow by status (SQL), and a random sample checked through the API: `nodes` succeeded node runs each */
async function countExecutions(client, base, workflowId, nodes, sampleSize = 25) {
  const byStatus = Object.fromEntries((await client.query('SELECT status, count(*)::int AS n FROM execution WHERE workflow_id = $1 GROUP BY status', [workflowId])).rows.map((r) => [r.status, r.n]));
  const total = Object.values(byStatus).reduce((a, b) => a + b, 0);
  const { rows } = await client.query('SELECT id FROM execution WHERE workflow_id = $1 ORDER BY random() LIMIT $2', [workflowId, sampleSize]);
  let complete = 0;
  for (const { id } of rows) {
    const e = await api(base, 'GET', `/api/v1/executions/${id}`);
    if (e.status === 'succeeded' && e.nodeRuns?.length === nodes && e.nodeRuns.every((r) => r.status === 'succeeded')) complete++;
  }
  return { total, byStatus, sampled: rows.length, sampledComplete: complete };
}

// ------------------------------------------------------------------ one target

async function runTarget(target, nats) {
  const db = await createExternalDatabase(cfg.adminUrl);
  const workers = [];
  let daemon;
  const records = [];
  try {
    const remote = target.startsWith('nats-');
    const nWorkers = remote ? Number(target.slice(5)) : 0;
    const prefix = `afbench${randomBytes(4).toString('hex')}`;
    const env = remote
      ? { NATS_URL: nats.url, ANCHORFLOW_NATS_PREFIX: prefix, ANCHORFLOW_WORKERS_DISCOVERY_WINDOW_MS: '200' }
      : target === 'inproc' ? { ANCHORFLOW_PLUGINS: PLUGIN_DIR } : {};
    daemon = await startBenchDaemon({ name: target, db, env });
    for (let i = 0; i < nWorkers; i++) workers.push(await startBenchWorker({ name: `${target}.worker${i + 1}`, natsUrl: nats.url, prefix }));
    if (remote) log(`${target}: workers ${(await waitForWorkers(daemon.base, nWorkers)).join(', ')}`);
    const def = target === 'core' ? w1('bench/w1') : w1Remote('bench/w1');
    const created = await api(daemon.base, 'POST', '/api/v1/workflows', def);
    await api(daemon.base, 'POST', `/api/v1/workflows/${created.id}/activate`);
    const url = `${daemon.base}/hooks/bench/w1`;
    await waitFor200(url, 60_000, () => daemon.child.exitCode === null);
    const settled = await settle(url);
    const check = await verify(url, 'w1', 50);
    log(`${target}: settled in ${settled.seconds} s; verify: ${check.ok}/${check.n} correct${check.bad ? ` (${JSON.stringify(check.errors)})` : ''}`);
    if (check.bad) throw new Error(`${target}: wrong W1 responses: ${JSON.stringify(check.errors)}`);

    // Postgres backends come and go (pool idle timeouts): CPU is summed per backend seen at the end, from
    // its value at the start (0 when it started during the window); one that ended during it is not counted
    const dbCpu = async () => new Map((await backendPids(db.client, db.name)).map((pid) => [pid, treeCpuMs([pid])]));
    const cpuNow = async () => ({
      daemon: treeCpuMs([daemon.child.pid]),
      workers: treeCpuMs(workers.map((w) => w.child.pid)),
      nats: remote && nats.pid ? treeCpuMs([nats.pid]) : 0,
      db: await dbCpu(),
    });
    let ok2xx = 0;
    for (const conc of cfg.concs) {
      if (cfg.warmup > 0) ok2xx += (await load(url, { conc, seconds: cfg.warmup, cpu: cfg.loaderCpu, maxReq: cfg.maxReq })).requests ?? 0;
      const la = loadavg();
      const c0 = await cpuNow();
      const r = await load(url, { conc, seconds: cfg.duration, cpu: cfg.loaderCpu, maxReq: cfg.maxReq });
      const c1 = await cpuNow();
      ok2xx += r.requests - r.non2xx_or_err;
      const n = Math.max(1, r.requests - r.non2xx_or_err);
      const perReq = (ms) => Math.round((ms * 1000) / n);
      let dbMs = 0;
      for (const [pid, ms] of c1.db) dbMs += ms - (c0.db.get(pid) ?? 0);
      const cpu = { daemonUs: perReq(c1.daemon - c0.daemon), workersUs: perReq(c1.workers - c0.workers), natsUs: perReq(c1.nats - c0.nats), dbUs: perReq(dbMs) };
      cpu.totalUs = cpu.daemonUs + cpu.workersUs + cpu.natsUs + cpu.dbUs;
      const rec = { target, workers: nWorkers, conc, loadavgStart: la, loadavg: loadavg(), cpu, r };
      records.push(rec);
      appendFileSync(join(outDir, 'results.jsonl'), `${JSON.stringify(rec)}\n`);
      log(`${target} c=${conc}: ${r.rps} rps, p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms, errors ${r.non2xx_or_err}; CPU/req µs: daemon ${cpu.daemonUs}, workers ${cpu.workersUs}, nats ${cpu.natsUs}, postgres ${cpu.dbUs} = ${cpu.totalUs}; load ${rec.loadavg}`);
    }
    // every request is an execution, and every execution finished with its 11 node runs
    await sleep(500);
    const counted = await countExecutions(db.client, daemon.base, created.id, 11);
    log(`${target}: executions ${counted.total} (${JSON.stringify(counted.byStatus)}); sample of ${counted.sampled} through the API: ${counted.sampledComplete} with their 11 succeeded node runs; loader saw ≥ ${ok2xx} 2xx`);
    for (const rec of records) rec.executions = counted;
  } finally {
    for (const w of workers) await w.stop();
    if (daemon) log(`${target}: daemon stopped (${await daemon.stop()})`);
    await db.drop().catch((err) => log(`could not drop ${db.name}: ${err}`));
  }
  return records;
}

// ------------------------------------------------------------------ report

function report(records, env) {
  const by = (t, c) => records.find((r) => r.target === t && r.conc === c);
  const lines = [];
  lines.push(`Machine: ${env.nproc} vCPU ${env.model}, ${env.memTotalMiB} MiB, ${env.node}, loader ${env.loader}; daemon pinned to CPU ${cfg.serverCpu}, loader to CPU ${cfg.loaderCpu}, workers ${cfg.workerCpu || 'unpinned'}, nats-server ${cfg.natsCpu || 'unpinned'} (${env.nats}); PostgreSQL ${env.postgres} on 127.0.0.1 (unpinned); ${cfg.duration} s per point after ${cfg.warmup} s warm-up; worker concurrency ${cfg.workerConcurrency}; commit ${env.commit}${env.dirtyFiles ? ` + ${env.dirtyFiles} uncommitted files` : ''}.`);
  lines.push('');
  lines.push('| target | c | req/s | p50 ms | p99 ms | errors | CPU µs/req: daemon | workers | nats-server | Postgres | total |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of records) {
    lines.push(`| ${r.target} | ${r.conc} | ${r.r.rps} | ${r.r.p50_ms} | ${r.r.p99_ms} | ${r.r.non2xx_or_err} | ${r.cpu.daemonUs} | ${r.cpu.workersUs} | ${r.cpu.natsUs} | ${r.cpu.dbUs} | ${r.cpu.totalUs} |`);
  }
  const base1 = by('inproc', 1);
  const nats1 = by('nats-1', 1);
  if (base1 && nats1) {
    const latUs = Math.round(((nats1.r.p50_ms - base1.r.p50_ms) * 1000) / 10);
    const cpuUs = Math.round((nats1.cpu.totalUs - base1.cpu.totalUs) / 10);
    lines.push('');
    lines.push(`Per job (10 jobs per request), NATS vs in process, 1 worker at c=1: +${latUs} µs latency (p50), +${cpuUs} µs CPU summed over every process.`);
  }
  const top = Math.max(...cfg.concs);
  const curve = ['inproc', 'nats-1', 'nats-2', 'nats-4'].map((t) => by(t, top)).filter(Boolean);
  if (curve.length > 1) lines.push(`Throughput at c=${top}: ${curve.map((r) => `${r.target} ${r.r.rps}`).join(' · ')} req/s.`);
  return lines.join('\n');
}

// ------------------------------------------------------------------ main

if (!existsSync(DAEMON_MAIN) || !existsSync(WORKER_MAIN)) {
  console.error('build first: npm run build (tsc -b)');
  process.exit(1);
}
const env = { ...machine(), loader: loader() };
const nats = await startNats();
env.nats = nats.own ? `own nats-server ${spawnSync(NATS_BIN, ['--version'], { encoding: 'utf8' }).stdout.trim()}` : nats.url;
{
  const probe = await createExternalDatabase(cfg.adminUrl);
  env.postgres = probe.settings.version;
  await probe.drop();
}
writeFileSync(join(outDir, 'env.json'), JSON.stringify({ env, cfg }, null, 2));
log(`machine: ${env.nproc} cpus (${env.model}); NATS ${env.nats}; targets ${cfg.targets.join(' ')}; concurrency ${cfg.concs.join(' ')}`);
const all = [];
try {
  for (const t of cfg.targets) all.push(...(await runTarget(t, nats)));
} finally {
  await nats.stop();
}
const md = report(all, env);
writeFileSync(join(outDir, 'report.md'), `${md}\n`);
console.log(`\n${md}\n\n(${outDir})`);
