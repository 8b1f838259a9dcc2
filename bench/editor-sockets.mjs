// Editor sockets benchmark (issue 15): SOCKETS socket.io clients (default 100) on namespace /editor all
// watch one execution of a NODES-node workflow (default 50: manual trigger → wait 1.5 s → 48 × core.set
// in a chain; the wait lets every socket watch before the chain runs). Checks every socket receives every
// node event, and reports the latency from the engine's event (its `at` timestamp, same machine clock) to
// its arrival at each socket: p50/p95/p99/max. Then IDLE sockets (default 500) connect and watch nothing:
// daemon RSS growth / IDLE = memory per idle socket.
// Run after `npm run build`: node bench/editor-sockets.mjs  (knobs: SOCKETS NODES IDLE RUNS CLIENTS (client processes, 4); DATABASE=embedded to skip the external PostgreSQL)
import { fork } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { io } from 'socket.io-client';
import { ADMIN_KEY, ROOT, createExternalDatabase, loadavg, machine, portOpen, sleep, startDaemon } from './targets.js';

const E = process.env;
const SOCKETS = Number(E.SOCKETS ?? 100);
const NODES = Number(E.NODES ?? 50);
const IDLE = Number(E.IDLE ?? 500);
const RUNS = Number(E.RUNS ?? 3);
const OUT = join(ROOT, '.bench-out', `editor-sockets-${Date.now()}`);
mkdirSync(OUT, { recursive: true });

async function api(base, method, path, body) {
  const res = await fetch(base + path, { method, headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

const rssKb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

function connect(base, token = ADMIN_KEY) {
  const s = io(`${base}/editor`, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
  return new Promise((resolve, reject) => {
    s.once('connect', () => resolve(s));
    s.once('connect_error', reject);
  });
}

// a client process (CLIENTS of them share the sockets, so one client event loop is not the bottleneck)
if (process.argv[2] === 'client') {
  const [, , , base, count, token] = process.argv;
  const sockets = await Promise.all(Array.from({ length: Number(count) }, () => connect(base, token)));
  process.on('message', async ({ executionId }) => {
    const latencies = [];
    const complete = await Promise.all(
      sockets.map(
        (s) =>
          new Promise((resolve) => {
            const seen = new Set();
            const onStatus = (m) => {
              if (m.executionId !== executionId) return;
              const at = m.status === 'running' ? m.startedAt : m.finishedAt;
              if (typeof at === 'number') latencies.push(Date.now() - at);
              if (m.status === 'succeeded') seen.add(m.nodeId);
            };
            const onState = (m) => {
              if (m.executionId === executionId) for (const n of m.nodes) if (n.status === 'succeeded') seen.add(n.nodeId);
            };
            const onFinished = (m) => {
              if (m.executionId !== executionId) return;
              s.off('node:status', onStatus);
              s.off('execution:state', onState);
              s.off('execution:finished', onFinished);
              resolve(seen.size);
            };
            s.on('node:status', onStatus);
            s.on('execution:state', onState);
            s.on('execution:finished', onFinished);
            void s.timeout(10_000).emitWithAck('execution:watch', { v: 1, executionId });
          }),
      ),
    );
    process.send({ latencies, complete });
  });
  process.send({ ready: true });
  await new Promise(() => undefined);
}

let db;
if (E.DATABASE !== 'embedded' && (await portOpen('127.0.0.1', 5432))) db = await createExternalDatabase(E.PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
const daemon = await startDaemon({ name: 'editor-sockets', cpu: E.SERVER_CPU, outDir: OUT, db, logLevel: 'warn' });
const pid = daemon.child.pid;
try {
  const nodes = [{ id: 'start', type: 'core.trigger.manual', params: {} }, { id: 'wait', type: 'core.wait', params: { ms: 1500 } }];
  for (let i = 1; nodes.length < NODES; i++) nodes.push({ id: `s${i}`, type: 'core.set', params: { fields: { [`f${i}`]: i } } });
  const edges = nodes.slice(1).map((n, i) => ({ from: nodes[i].id, to: n.id }));
  const wf = await api(daemon.base, 'POST', '/api/v1/workflows', { name: 'bench/editor-sockets', nodes, edges });

  const CLIENTS = Math.min(SOCKETS, Number(E.CLIENTS ?? 4));
  const clients = [];
  for (let i = 0; i < CLIENTS; i++) {
    const count = Math.floor(SOCKETS / CLIENTS) + (i < SOCKETS % CLIENTS ? 1 : 0);
    const child = fork(new URL(import.meta.url).pathname, ['client', daemon.base, String(count), ADMIN_KEY], { env: { ...process.env, NODE_OPTIONS: '' } });
    await new Promise((resolve) => child.once('message', resolve));
    clients.push(child);
  }
  const results = [];
  for (let run = 1; run <= RUNS; run++) {
    const started = await api(daemon.base, 'POST', `/api/v1/workflows/${wf.id}/executions`, { input: { run } });
    const executionId = started.executionId ?? started.id;
    const answers = await Promise.all(clients.map((c) => new Promise((resolve) => { c.once('message', resolve); c.send({ executionId }); })));
    const exec = await api(daemon.base, 'GET', `/api/v1/executions/${executionId}`);
    const succeeded = exec.nodeRuns.filter((r) => r.status === 'succeeded').length;
    const latencies = answers.flatMap((a) => a.latencies).sort((a, b) => a - b);
    const complete = answers.flatMap((a) => a.complete).filter((n) => n === succeeded).length;
    const r = { run, executionId, status: exec.status, sockets: SOCKETS, clientProcesses: CLIENTS, socketsWithEveryNode: complete, nodesSucceeded: succeeded, events: latencies.length, p50: pct(latencies, 50), p95: pct(latencies, 95), p99: pct(latencies, 99), max: latencies.at(-1) };
    results.push(r);
    console.log(JSON.stringify(r));
  }
  for (const c of clients) c.kill();
  await sleep(1000);

  const before = rssKb(pid);
  const idle = [];
  for (let i = 0; i < IDLE; i += 50) idle.push(...(await Promise.all(Array.from({ length: Math.min(50, IDLE - i) }, () => connect(daemon.base)))));
  await sleep(2000);
  const after = rssKb(pid);
  const perIdleKb = (after - before) / IDLE;
  console.log(JSON.stringify({ idleSockets: IDLE, rssBeforeMb: +(before / 1024).toFixed(1), rssAfterMb: +(after / 1024).toFixed(1), perIdleSocketKb: +perIdleKb.toFixed(1) }));
  for (const s of idle) s.disconnect();
  console.log(JSON.stringify({ machine: machine(), loadavg: loadavg(), database: db ? 'external' : 'embedded' }));
} catch (err) {
  if (!err.skip) throw err;
} finally {
  await daemon.stop();
  await db?.drop?.();
}
