// Starting, preparing, measuring and stopping the benchmark targets: the peers' plain-Node baseline and the
// Anchorflow daemon on embedded or external PostgreSQL. Shared by run.js and profile.js.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, createWriteStream, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { URLSearchParams, fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { has } from './load.js';
import { post } from './verify.js';
import { BODY, WORKFLOWS } from './workflows.js';

export const HERE = fileURLToPath(new URL('.', import.meta.url));
export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** our Node (24, from the devDependency); the system node is older */
export const NODE = existsSync(join(ROOT, 'node_modules/.bin/node')) ? join(ROOT, 'node_modules/.bin/node') : process.execPath;
export const DAEMON_MAIN = join(ROOT, 'apps/daemon/dist/main.js');
export const PEERS_DIR = join(ROOT, '../shared/bench-peers');

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

export function pinned(cpu, argv) {
  return cpu !== undefined && cpu !== '' && has('taskset') ? ['taskset', '-c', String(cpu), ...argv] : argv;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export function portOpen(host, port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (v) => {
      sock.destroy();
      resolve(v);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

// ------------------------------------------------------------------ machine

export function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1]?.trim();
  const mhz = /cpu MHz\s*:\s*(.*)/.exec(cpuinfo)?.[1]?.trim();
  const sh = (cmd) => spawnSync('sh', ['-c', cmd], { encoding: 'utf8' }).stdout?.trim() || undefined;
  return {
    nproc: Number(sh('nproc')) || os.cpus().length,
    model,
    mhz,
    memTotalMiB: Math.round(os.totalmem() / 2 ** 20),
    kernel: os.release(),
    node: spawnSync(NODE, ['-v'], { encoding: 'utf8' }).stdout.trim(),
    systemNode: sh('command -v node >/dev/null && node -v'),
    wrk: sh('command -v wrk >/dev/null && (wrk -v 2>&1 | head -1)'),
    taskset: has('taskset'),
    postgres: undefined,
    commit: sh(`git -C '${ROOT}' rev-parse --short HEAD 2>/dev/null`),
    dirtyFiles: Number(sh(`git -C '${ROOT}' status --porcelain 2>/dev/null | wc -l`)) || 0,
  };
}

// ------------------------------------------------------------------ CPU time of a process tree

const TICK_MS = 1000 / (Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100);

function statOf(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // fields after the name: state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17)
    return { ppid: Number(f[1]), ownMs: (Number(f[11]) + Number(f[12])) * TICK_MS, cpuMs: (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * TICK_MS };
  } catch {
    return undefined;
  }
}

/** CPU ms used so far by this process alone (user + system, not its children) */
export function ownCpuMs(pid) {
  return statOf(pid)?.ownMs ?? 0;
}

/** CPU ms used so far by these processes and all their descendants (reaped children included) */
export function treeCpuMs(rootPids) {
  const children = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const st = statOf(d);
    if (!st) continue;
    if (!children.has(st.ppid)) children.set(st.ppid, []);
    children.get(st.ppid).push(Number(d));
  }
  let total = 0;
  const seen = new Set();
  const stack = [...rootPids];
  while (stack.length) {
    const pid = stack.pop();
    if (seen.has(pid)) continue;
    seen.add(pid);
    const st = statOf(pid);
    if (st) total += st.cpuMs;
    stack.push(...(children.get(pid) ?? []));
  }
  return total;
}

// ------------------------------------------------------------------ memory of a process tree

function kibOf(file, field) {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(file, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

function descendants(rootPids) {
  const children = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const st = statOf(d);
    if (!st) continue;
    if (!children.has(st.ppid)) children.set(st.ppid, []);
    children.get(st.ppid).push(Number(d));
  }
  const seen = new Set();
  const stack = [...rootPids];
  while (stack.length) {
    const pid = stack.pop();
    if (seen.has(pid)) continue;
    seen.add(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return [...seen];
}

/**
 * Memory now, in MiB: `rss` of the first process alone (the server), `treePss` of it and all its descendants
 * (proportional set size: shared pages, e.g. an embedded Postgres's shared buffers, counted once overall).
 */
export function memoryMiB(rootPids) {
  const rss = kibOf(`/proc/${rootPids[0]}/status`, 'VmRSS');
  let pss = 0;
  for (const pid of descendants(rootPids)) pss += kibOf(`/proc/${pid}/smaps_rollup`, 'Pss') ?? 0;
  const mib = (k) => (k === undefined ? undefined : Math.round(k / 102.4) / 10);
  return { rss: mib(rss), treePss: mib(pss) };
}

// ------------------------------------------------------------------ processes

/**
 * Spawns a server, stdout+stderr to logFile; resolves with the child once `ready(line)` matched a stdout
 * line (or immediately when no matcher). Rejects if it exits first or after timeoutMs.
 */
export function spawnServer(argv, { env, logFile, ready, timeoutMs = 180_000 }) {
  const t0 = performance.now();
  const child = spawn(argv[0], argv.slice(1), { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(logFile);
  child.stderr.pipe(log, { end: false });
  let buf = '';
  let settled = false;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`not ready after ${timeoutMs} ms (see ${logFile})`)), timeoutMs);
    const fail = (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    };
    child.stdout.on('data', (chunk) => {
      log.write(chunk);
      if (settled || !ready) return;
      buf += chunk;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const found = ready(line);
        if (found) {
          settled = true;
          clearTimeout(timer);
          resolve({ child, found, readyMs: performance.now() - t0, log });
          return;
        }
      }
    });
    child.once('exit', (code, signal) => fail(new Error(`exited (${code ?? signal}) before it was ready (see ${logFile})`)));
    child.once('error', fail);
    if (!ready) {
      settled = true;
      clearTimeout(timer);
      resolve({ child, found: undefined, readyMs: 0, log });
    }
  });
}

/** SIGTERM, wait up to graceMs, then SIGKILL. Resolves with how it ended. */
export async function stopProcess(child, graceMs = 20_000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return 'already exited';
  const exited = new Promise((r) => child.once('exit', (code, signal) => r(signal ?? `exit ${code}`)));
  child.kill('SIGTERM');
  const how = await Promise.race([exited, sleep(graceMs).then(() => undefined)]);
  if (how) return how;
  child.kill('SIGKILL');
  return `${await exited} (SIGKILL after ${graceMs} ms)`;
}

// ------------------------------------------------------------------ HTTP helpers

/** the admin key the benchmark provisions in every daemon it starts (ANCHORFLOW_ADMIN_KEY; format afk_<id>_<secret>) */
export const ADMIN_KEY = `afk_${randomBytes(8).toString('hex')}_${randomBytes(32).toString('base64url')}`;

export async function api(base, method, path, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${text.slice(0, 500)}`);
  return json;
}

/**
 * Creates a benchmark workflow. A build from before the webhook gate (85eacc0), such as e95d4ff (issue 18's
 * starting point, the morning of 2026-12-07), refuses the `publicOutput` param it did not have yet (and
 * answered with the last node's output without it): such a base gets the same workflow without that param.
 */
async function createWorkflow(base, def) {
  try {
    return await api(base, 'POST', '/api/v1/workflows', def);
  } catch (err) {
    if (!/publicOutput/.test(String(err))) throw err;
    const older = { ...def, nodes: def.nodes.map(({ params: { publicOutput: _p, ...params } = {}, ...n }) => ({ ...n, params })) };
    return api(base, 'POST', '/api/v1/workflows', older);
  }
}

/** first 200 from the workload URL, polling every 50 ms */
export async function waitFor200(url, timeoutMs = 60_000, alive = () => true) {
  const t0 = performance.now();
  let last;
  while (performance.now() - t0 < timeoutMs) {
    if (!alive()) throw new Error('server exited');
    try {
      const r = await post(url, BODY, 5000);
      if (r.status === 200) return performance.now() - t0;
      last = `${r.status} ${r.text.slice(0, 200)}`;
    } catch (e) {
      last = String(e);
    }
    await sleep(50);
  }
  throw new Error(`no 200 from ${url} within ${timeoutMs} ms (last: ${last})`);
}

/** the peers' "settled" rule: 10 consecutive 200s (max 60 s); returns {seconds, ok200} */
export async function settle(url) {
  const t0 = performance.now();
  let run = 0;
  let ok200 = 0;
  while (run < 10 && performance.now() - t0 < 60_000) {
    const r = await post(url, BODY, 5000).catch(() => ({ status: 0 }));
    if (r.status === 200) {
      run++;
      ok200++;
    } else {
      run = 0;
      await sleep(200);
    }
  }
  return { seconds: +((performance.now() - t0) / 1000).toFixed(2), ok200, settled: run >= 10 };
}

// ------------------------------------------------------------------ targets

/**
 * The peers' baseline-server (our verbatim copy) on `node`; {name, urls: {w1, w2}, child, pids(), stop()}.
 */
export async function startBaseline({ name, node, cpu, outDir }) {
  const port = await freePort();
  const t0 = performance.now();
  const { child } = await spawnServer(pinned(cpu, [node, join(HERE, 'baseline-server.cjs')]), {
    env: { ...process.env, PORT: String(port) },
    logFile: join(outDir, `${name}.server.log`),
  });
  const base = `http://127.0.0.1:${port}`;
  const urls = { w1: `${base}/w1`, w2: `${base}/w2` };
  const firstMs = await waitFor200(urls.w1, 60_000, () => child.exitCode === null);
  return {
    name, kind: 'baseline', base, urls, child,
    startup: { firstOkMs: Math.round(performance.now() - t0), listeningMs: undefined, sinceListeningMs: Math.round(firstMs) },
    pids: () => [child.pid],
    stop: () => stopProcess(child),
  };
}

/** creates a fresh database on the external server; returns its name and a client for checks */
export async function createExternalDatabase(adminUrl) {
  const { default: pg } = await import('pg');
  const name = `af_bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const url = u.toString();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const version = (await client.query('SHOW server_version')).rows[0].server_version;
  const sync = (await client.query('SHOW synchronous_commit')).rows[0].synchronous_commit;
  const fsync = (await client.query('SHOW fsync')).rows[0].fsync;
  return {
    name, url, client, settings: { version, synchronous_commit: sync, fsync },
    async drop() {
      await client.end().catch(() => undefined);
      const a = new pg.Client({ connectionString: adminUrl });
      await a.connect();
      try {
        await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await a.end();
      }
    },
  };
}

/**
 * The daemon (apps/daemon/dist/main.js) on a fresh data dir, embedded Postgres unless `db` (from
 * createExternalDatabase) is given. Creates and activates W1 and W2, waits for the first 200 on W1.
 */
export async function startDaemon({ name, cpu, outDir, db, logLevel = 'warn', nodeArgs = [], keepData = false, extraEnv = {}, main = DAEMON_MAIN, wrapper = [], readyTimeoutMs, stopGraceMs }) {
  const dataDir = mkdtempSync(join(os.tmpdir(), `af-bench-${name}-`));
  // as root, the embedded Postgres runs as nobody and must be able to enter the data dir
  chmodSync(dataDir, 0o755);
  const env = { ...process.env, PORT: '0', HOST: '127.0.0.1', ANCHORFLOW_DATA_DIR: dataDir, ANCHORFLOW_LOG_LEVEL: logLevel, ANCHORFLOW_LOG_REQUESTS: 'false', ANCHORFLOW_ADMIN_KEY: ADMIN_KEY };
  delete env.DATABASE_URL;
  delete env.NODE_OPTIONS;
  if (db) env.DATABASE_URL = db.url;
  Object.assign(env, extraEnv);
  const t0 = performance.now();
  const started = await spawnServer(pinned(cpu, [...wrapper, NODE, ...nodeArgs, main]), {
    env,
    timeoutMs: readyTimeoutMs,
    logFile: join(outDir, `${name}.server.log`),
    ready: (line) => {
      if (!line.includes('"listening"')) return undefined;
      try {
        const j = JSON.parse(line);
        return j.event === 'listening' ? j.url : undefined;
      } catch {
        return undefined;
      }
    },
  }).catch(async (err) => {
    await embeddedLeftover(dataDir);
    if (!keepData) rmSync(dataDir, { recursive: true, force: true });
    throw err;
  });
  const { child, found, readyMs } = started;
  const base = found;
  const workflows = {};
  const urls = {};
  try {
    for (const [w, { make }] of Object.entries(WORKFLOWS)) {
      const def = make(`bench/${w}`);
      const created = await createWorkflow(base, def);
      await api(base, 'POST', `/api/v1/workflows/${created.id}/activate`);
      workflows[w] = created.id;
      urls[w] = `${base}/hooks/bench/${w}`;
    }
    const firstMs = await waitFor200(urls.w1, readyTimeoutMs ?? 60_000, () => child.exitCode === null);
    const startup = { listeningMs: Math.round(readyMs), firstOkMs: Math.round(performance.now() - t0), sinceListeningMs: Math.round(firstMs) };
    return {
      name, kind: 'daemon', base, urls, child, workflows, dataDir, db, startup,
      pids: () => [child.pid],
      async stop() {
        const how = await stopProcess(child, stopGraceMs);
        const leftover = await embeddedLeftover(dataDir);
        if (!keepData) rmSync(dataDir, { recursive: true, force: true });
        return leftover ? `${how}; ${leftover}` : how;
      },
    };
  } catch (err) {
    await stopProcess(child);
    await embeddedLeftover(dataDir);
    if (!keepData) rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}

/** the embedded postmaster should stop with the daemon; if it does not within 10 s, stop it (ours) */
async function embeddedLeftover(dataDir) {
  const pidFile = join(dataDir, 'pg', 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  for (let i = 0; i < 100 && alive(); i++) await sleep(100);
  if (!alive()) return undefined;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && alive(); i++) await sleep(100);
  return `embedded postmaster ${pid} outlived the daemon; stopped it${alive() ? ' (still alive!)' : ''}`;
}

// ------------------------------------------------------------------ durability checks

/** every execution of a workflow through the API, paging; {total, byStatus, pages, ms} */
export async function countExecutionsViaApi(base, workflowId) {
  const t0 = performance.now();
  const byStatus = {};
  let total = 0;
  let pages = 0;
  let cursor;
  const sample = [];
  do {
    const q = new URLSearchParams({ workflowId, limit: '500', ...(cursor ? { cursor } : {}) });
    const page = await api(base, 'GET', `/api/v1/executions?${q}`);
    pages++;
    for (const it of page.items) {
      byStatus[it.status] = (byStatus[it.status] ?? 0) + 1;
      total++;
      if (sample.length < 5 || Math.random() < 0.0005) sample.push(it.id);
    }
    cursor = page.nextCursor;
  } while (cursor);
  return { total, byStatus, pages, ms: Math.round(performance.now() - t0), sample: sample.slice(0, 25) };
}

/** node runs of a sample of executions through the API: each must have `nodes` succeeded runs */
export async function checkNodeRunsViaApi(base, ids, nodes) {
  let good = 0;
  const problems = [];
  for (const id of ids) {
    const e = await api(base, 'GET', `/api/v1/executions/${id}`);
    const ok = e.status === 'succeeded' && e.nodeRuns?.length === nodes && e.nodeRuns.every((r) => r.status === 'succeeded');
    if (ok) good++;
    else if (problems.length < 3) problems.push({ id, status: e.status, runs: e.nodeRuns?.map((r) => r.status) });
  }
  return { sampled: ids.length, good, problems };
}

/** how execution events are stored: one row per event (type column) or one row per execution per commit (events text) */
async function eventLayout(client) {
  const { rows } = await client.query(`SELECT column_name FROM information_schema.columns WHERE table_name = 'execution_event'`);
  return rows.some((r) => r.column_name === 'events') ? 'chunks' : 'rows';
}

/**
 * The same, directly in the external database, for every execution of the workflow: executions by
 * status; per execution its events (parsed), of which `nodes` node.succeeded and one execution.finished,
 * and their seq numbers without gaps.
 */
export async function countExecutionsViaSql(client, workflowId, nodes) {
  const byStatus = Object.fromEntries((await client.query('SELECT status, count(*)::int AS n FROM execution WHERE workflow_id = $1 GROUP BY status', [workflowId])).rows.map((r) => [r.status, r.n]));
  const layout = await eventLayout(client);
  const events = layout === 'chunks'
    ? `SELECT ev.execution_id, x->>'type' AS t, (x->>'seq')::int AS seq FROM execution_event ev JOIN e ON e.id = ev.execution_id, jsonb_array_elements(ev.events::jsonb) x`
    : `SELECT ev.execution_id, ev.type AS t, ev.seq FROM execution_event ev JOIN e ON e.id = ev.execution_id`;
  const { rows: [r] } = await client.query(
    `WITH e AS (SELECT id FROM execution WHERE workflow_id = $1), x AS (${events}),
          per AS (SELECT execution_id, count(*) FILTER (WHERE t = 'node.succeeded') AS ok, count(*) FILTER (WHERE t = 'execution.finished') AS fin,
                    count(*) AS n, count(DISTINCT seq) AS seqs, max(seq) AS last FROM x GROUP BY execution_id)
     SELECT (SELECT count(*) FROM e)::int AS executions, count(*)::int AS with_events,
            count(*) FILTER (WHERE ok = $2 AND fin = 1 AND n = seqs AND seqs = last)::int AS complete,
            coalesce(sum(ok), 0)::int AS node_succeeded, coalesce(sum(n), 0)::int AS events FROM per`, [workflowId, nodes]);
  return { total: r.executions, byStatus, layout, completeNodeRuns: r.complete, nodeSucceededEvents: r.node_succeeded, events: r.events };
}

/**
 * Group commit, measured post hoc: the executions started in [from, to), their events, and the distinct
 * transactions (xmin) that inserted the rows holding those events.
 */
export async function commitsViaSql(client, workflowId, fromMs, toMs) {
  const layout = await eventLayout(client);
  const count = layout === 'chunks' ? 'sum(ev.last_seq - ev.seq + 1)' : 'count(*)';
  const { rows: [r] } = await client.query(
    `WITH e AS (SELECT id FROM execution WHERE workflow_id = $1 AND started_at >= to_timestamp($2::float8 / 1000) AND started_at < to_timestamp($3::float8 / 1000)),
          ev AS (SELECT ev.*, ev.xmin::text AS tx FROM execution_event ev JOIN e ON e.id = ev.execution_id),
          per AS (SELECT execution_id, count(DISTINCT tx) AS txs FROM ev GROUP BY execution_id)
     SELECT (SELECT count(*) FROM e)::int AS executions, (SELECT ${count} FROM ev)::int AS events, (SELECT count(*) FROM ev)::int AS event_rows,
            (SELECT count(DISTINCT tx) FROM ev)::int AS transactions, (SELECT avg(txs) FROM per)::float8 AS commits_per_execution`,
    [workflowId, fromMs, toMs]);
  // the second writer on the hot path, when present: the hash-chained audit log (its own group commit)
  const { rows: [has] } = await client.query(`SELECT to_regclass('audit_entry') IS NOT NULL AS present`);
  let audit;
  if (has.present) {
    const { rows: [a] } = await client.query(
      `SELECT count(*)::int AS entries, count(DISTINCT xmin::text)::int AS transactions FROM audit_entry
       WHERE at >= to_timestamp($1::float8 / 1000) AND at < to_timestamp($2::float8 / 1000)`, [fromMs, toMs]);
    audit = a;
  }
  return { ...r, layout, audit };
}

/** PIDs of the external server's backends connected to this database (for their CPU time) */
export async function backendPids(client, dbName) {
  const { rows } = await client.query('SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [dbName]);
  return rows.map((r) => r.pid);
}

/**
 * Start-up on an existing database (issue 18): a daemon started earlier by startDaemon({keepData: true}) and
 * stopped is started again on the same database and data dir, on a port chosen here, so that its first
 * answers can be polled from the moment of spawn. Measures spawn → `listening` line, → first 200 of
 * GET /api/v1/health, → `engine.started` line (recovery of unfinished executions done; needs log level
 * info), → first 2xx of `hookUrl` (POST BODY) when given. Returns the running daemon like startDaemon's, plus
 * `startup`.
 */
export async function respawnDaemon(prev, { name, outDir, cpu, logLevel = 'info', hookUrlPath, readyTimeoutMs = 600_000, stopGraceMs, extraEnv = {}, nodeArgs = [] }) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = { ...process.env, PORT: String(port), HOST: '127.0.0.1', ANCHORFLOW_DATA_DIR: prev.dataDir, ANCHORFLOW_LOG_LEVEL: logLevel, ANCHORFLOW_LOG_REQUESTS: 'false', ANCHORFLOW_ADMIN_KEY: ADMIN_KEY };
  delete env.NODE_OPTIONS;
  env.DATABASE_URL = prev.db.url;
  Object.assign(env, extraEnv);
  const logFile = join(outDir, `${name}.server.log`);
  const spawnEpoch = Date.now();
  const t0 = performance.now();
  const { child } = await spawnServer(pinned(cpu, [NODE, ...nodeArgs, DAEMON_MAIN]), { env, logFile });
  const alive = () => child.exitCode === null && child.signalCode === null;
  const pollUntil = async (fn) => {
    while (performance.now() - t0 < readyTimeoutMs) {
      if (!alive()) throw new Error(`daemon exited during start-up (see ${logFile})`);
      if (await fn().catch(() => false)) return Math.round(performance.now() - t0);
      await sleep(10);
    }
    throw new Error(`start-up not done after ${readyTimeoutMs} ms (see ${logFile})`);
  };
  try {
    const healthMs = await pollUntil(async () => (await fetch(`${base}/api/v1/health`, { signal: AbortSignal.timeout(2000) })).status === 200);
    const hookMs = hookUrlPath ? await pollUntil(async () => {
      const r = await post(`${base}${hookUrlPath}`, BODY, 5000);
      return r.status >= 200 && r.status < 300;
    }) : undefined;
    // the log lines carry their epoch time: listening, engine.started (recovery done)
    let listeningMs;
    let engine;
    for (let i = 0; i < (logLevel === 'info' || logLevel === 'debug' ? 6000 : 1) && engine === undefined && alive(); i++) {
      for (const line of readFileSync(logFile, 'utf8').split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const j = JSON.parse(line);
          if (j.event === 'listening') listeningMs = j.time - spawnEpoch;
          if (j.event === 'engine.started') engine = { engineStartedMs: j.time - spawnEpoch, resumed: j.resumed, recoverMs: j.ms };
        } catch { /* not JSON */ }
      }
      if (engine === undefined) await sleep(100);
    }
    return {
      ...prev, name, base, child,
      startup: { listeningMs, healthMs, ...engine, firstHookMs: hookMs },
      pids: () => [child.pid],
      async stop() {
        return stopProcess(child, stopGraceMs);
      },
    };
  } catch (err) {
    await stopProcess(child);
    throw err;
  }
}
