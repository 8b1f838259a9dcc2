// Large executions end to end through the webhook (issue 18, "how cost grows with work"), on a fresh
// database of the external PostgreSQL (dropped afterwards), the daemon built from this checkout:
//  - chain: webhook → 1,000 × core.noop (and, separately, 1,000 × core.set of one field each) → response
//    (respond: lastNode). RUNS sequential requests after WARM ones; latency median, µs per node (against a
//    webhook → 1 node workflow measured the same way), daemon CPU per execution, and the stored events of
//    the last execution counted in SQL.
//  - items: the engine has no per-item fan-out (a node gets one input value and emits one value per port;
//    the graph is a DAG, so no loop either), so 10,000 items go through as one array: webhook body
//    {items: [10,000 × {id, price}]} → core.transform (per item: total = price × 2, ok = true) → core.transform
//    (keep the ok ones) → core.transform (collect: count, sum of totals) → response. Wall time, items/s,
//    daemon CPU, daemon RSS peak (sampled every 20 ms) and the result checked.
//  - branches (--branches=N, off by default): the closest thing to a per-item fan-out the graph allows:
//    webhook → N parallel core.transform nodes (node k picks items[k] and computes its total) →
//    core.merge (array) → core.transform (collect) → response. One run.
// Run after `npm run build`:
//   node bench/big-workflows.mjs [--chain=1000] [--items=10000] [--runs=20] [--warm=3] [--item-runs=5] [--branches=0]
//                                [--cases=chain,items,branches]
// The daemon gets ANCHORFLOW_HTTP_BODY_LIMIT=16mb: the 10,000-branch workflow's definition is ~1.8 MB.
import { join } from 'node:path';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { ROOT, api, createExternalDatabase, loadavg, machine, memoryMiB, ownCpuMs, sleep, startDaemon } from './targets.js';
import { post } from './verify.js';

const args = Object.fromEntries(process.argv.slice(2).map((a) => { const [k, ...v] = a.replace(/^--/, '').split('='); return [k, v.length ? v.join('=') : 'true']; }));
const CHAIN = Number(args.chain ?? 1000);
const ITEMS = Number(args.items ?? 10000);
const RUNS = Number(args.runs ?? 20);
const WARM = Number(args.warm ?? 3);
const ITEM_RUNS = Number(args['item-runs'] ?? 5);
const BRANCHES = Number(args.branches ?? 0);
const CASES = new Set((args.cases ?? 'chain,items,branches').split(','));
const out = join(ROOT, '.bench-out', `big-workflows-${Date.now()}`);
mkdirSync(out, { recursive: true });
const env = { ...machine(), date: new Date().toISOString(), argv: process.argv.slice(2), loadavg: loadavg() };
writeFileSync(join(out, 'env.json'), JSON.stringify(env, null, 2));
console.error(JSON.stringify({ commit: env.commit, dirtyFiles: env.dirtyFiles, date: env.date, loadavg: env.loadavg, out }));

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const hook = (path) => ({ id: 'hook', type: 'core.trigger.webhook', params: { path, method: 'POST', respond: 'lastNode', publicOutput: true, include: 'body' } });

function chain(path, n, kind) {
  const nodes = [hook(path)];
  const edges = [];
  for (let i = 1; i <= n; i++) {
    nodes.push(kind === 'set' ? { id: `n${i}`, type: 'core.set', params: { fields: { [`f${i}`]: i } } } : { id: `n${i}`, type: 'core.noop', params: {} });
    edges.push({ from: i === 1 ? 'hook' : `n${i - 1}`, to: `n${i}` });
  }
  return { name: `${n} × core.${kind}`, nodes, edges };
}

const PER_ITEM = '$map(items, function($v) { $merge([$v, {"total": $v.price * 2, "ok": $v.price >= 0}]) })';
const FILTER = '$filter($, function($v) { $v.ok })';
const COLLECT = '{"count": $count($), "sum": $sum($.total)}';
function itemsWorkflow(path) {
  return {
    name: `${ITEMS} items as one array through 3 × core.transform`,
    nodes: [hook(path),
      { id: 'each', type: 'core.transform', params: { expression: PER_ITEM } },
      { id: 'keep', type: 'core.transform', params: { expression: FILTER } },
      { id: 'collect', type: 'core.transform', params: { expression: COLLECT } }],
    edges: [{ from: 'hook', to: 'each' }, { from: 'each', to: 'keep' }, { from: 'keep', to: 'collect' }],
  };
}
function branchesWorkflow(path, n) {
  const nodes = [hook(path), { id: 'merge', type: 'core.merge', params: { mode: 'array' } }, { id: 'collect', type: 'core.transform', params: { expression: COLLECT } }];
  const edges = [];
  for (let k = 0; k < n; k++) {
    nodes.push({ id: `i${k}`, type: 'core.transform', params: { expression: `{"id": items[${k}].id, "total": items[${k}].price * 2}` } });
    edges.push({ from: 'hook', to: `i${k}` }, { from: `i${k}`, to: 'merge' });
  }
  edges.push({ from: 'merge', to: 'collect' });
  return { name: `${n} parallel branches → merge`, nodes, edges };
}

const db = await createExternalDatabase(args['pg-admin-url'] ?? 'postgres://postgres@127.0.0.1:5432/postgres');
const daemon = await startDaemon({ name: 'big', outDir: out, db, readyTimeoutMs: 120_000, extraEnv: { ANCHORFLOW_HTTP_BODY_LIMIT: '16mb' } });
const pid = daemon.child.pid;
const results = { env };
const save = () => writeFileSync(join(out, 'result.json'), JSON.stringify(results, null, 2));

async function deploy(def) {
  const t0 = performance.now();
  const wf = await api(daemon.base, 'POST', '/api/v1/workflows', def);
  await api(daemon.base, 'POST', `/api/v1/workflows/${wf.id}/activate`);
  return { id: wf.id, deployMs: Math.round(performance.now() - t0) };
}
/** the newest execution of a workflow and the events stored for it (all chunks, parsed in SQL) */
async function lastExecution(workflowId) {
  const { rows: [e] } = await db.client.query(`SELECT id, status, seq FROM execution WHERE workflow_id = $1 ORDER BY started_at DESC LIMIT 1`, [workflowId]);
  const { rows: [ev] } = await db.client.query(
    `SELECT count(*)::int AS chunks, coalesce(sum(last_seq - seq + 1), 0)::int AS events, coalesce(sum(length(events)), 0)::bigint AS bytes,
            (SELECT count(*)::int FROM execution_event x, jsonb_array_elements(x.events::jsonb) j WHERE x.execution_id = $1 AND j->>'type' = 'node.succeeded') AS node_succeeded
     FROM execution_event WHERE execution_id = $1`, [e.id]);
  return { id: e.id, status: e.status, seq: e.seq, eventChunks: ev.chunks, events: ev.events, eventBytes: Number(ev.bytes), nodeSucceeded: ev.node_succeeded };
}
/** RSS of the daemon sampled every 20 ms while fn runs; {result, rssPeakMiB, cpuMs} */
async function sampled(fn) {
  let peak = 0;
  const timer = setInterval(() => {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (m) peak = Math.max(peak, Number(m[1]));
  }, 20);
  const c0 = ownCpuMs(pid);
  const t0 = performance.now();
  try {
    const result = await fn();
    return { result, wallMs: performance.now() - t0, cpuMs: ownCpuMs(pid) - c0, rssPeakMiB: Math.round(peak / 102.4) / 10 };
  } finally {
    clearInterval(timer);
  }
}

async function latencyCase(name, def, nodes, check) {
  const wf = await deploy(def);
  const url = `${daemon.base}/hooks/bench/${name}`;
  const lat = [];
  const cpu = [];
  let bad = 0;
  for (let i = 0; i < WARM + RUNS; i++) {
    const body = { id: i, name: 'bench' };
    const s = await sampled(() => post(url, body, 600_000));
    const problem = check(s.result, body);
    if (problem) {
      bad++;
      if (bad <= 3) console.error(JSON.stringify({ case: name, run: i, problem, status: s.result.status, text: s.result.text?.slice(0, 300) }));
    }
    if (i >= WARM) {
      lat.push(s.wallMs);
      cpu.push(s.cpuMs);
    }
  }
  await sleep(500);
  const last = await lastExecution(wf.id);
  const r = {
    case: name, nodes, deployMs: wf.deployMs, runs: RUNS, bad, latencyMsMedian: +median(lat).toFixed(2), latencyMsMin: +Math.min(...lat).toFixed(2), latencyMsMax: +Math.max(...lat).toFixed(2),
    daemonCpuMsMedian: +median(cpu).toFixed(1), lastExecution: last, ...memoryMiB(daemon.pids()), loadavg: loadavg(), at: new Date().toISOString(),
  };
  console.error(JSON.stringify(r));
  return r;
}

try {
  // ------------------------------------------------------------ chain of CHAIN nodes vs one node
  const okChain = (kind, n) => (res, body) => {
    if (res.status !== 200) return `status ${res.status}`;
    const j = JSON.parse(res.text);
    if (j.id !== body.id) return `id ${j.id}`;
    if (kind === 'set') for (let i = 1; i <= n; i++) if (j[`f${i}`] !== i) return `f${i} missing`;
    return undefined;
  };
  if (CASES.has('chain')) {
  results.one = await latencyCase('one-noop', chain('bench/one-noop', 1, 'noop'), 2, okChain('noop', 1));
  results.chainNoop = await latencyCase('chain-noop', chain('bench/chain-noop', CHAIN, 'noop'), CHAIN + 1, okChain('noop', CHAIN));
  results.chainSet = await latencyCase('chain-set', chain('bench/chain-set', CHAIN, 'set'), CHAIN + 1, okChain('set', CHAIN));
  for (const k of ['chainNoop', 'chainSet']) {
    results[k].usPerNode = +((results[k].latencyMsMedian * 1000) / CHAIN).toFixed(1);
    results[k].usPerNodeBeyondOne = +(((results[k].latencyMsMedian - results.one.latencyMsMedian) * 1000) / (CHAIN - 1)).toFixed(1);
    results[k].cpuUsPerNodeBeyondOne = +(((results[k].daemonCpuMsMedian - results.one.daemonCpuMsMedian) * 1000) / (CHAIN - 1)).toFixed(1);
  }
  save();
  }

  // ------------------------------------------------------------ ITEMS items as one array
  const items = Array.from({ length: Math.max(ITEMS, BRANCHES) }, (_, i) => ({ id: i + 1, price: i + 1 }));
  const runItems = async (name, def, runs, n = ITEMS) => {
    const body = { items: items.slice(0, n) };
    const wantSum = n * (n + 1);
    const itemsCheck = (res) => {
      if (res.status !== 200) return `status ${res.status}: ${res.text.slice(0, 200)}`;
      const j = JSON.parse(res.text);
      return j.count === n && j.sum === wantSum ? undefined : `got ${res.text.slice(0, 200)}, want count ${n} sum ${wantSum}`;
    };
    const wf = await deploy(def);
    const url = `${daemon.base}/hooks/bench/${name}`;
    const rs = [];
    for (let i = 0; i < runs + 1; i++) {
      const s = await sampled(() => post(url, body, 600_000));
      const problem = itemsCheck(s.result);
      const row = { run: i, warm: i === 0, wallMs: Math.round(s.wallMs), itemsPerSecond: Math.round(n / (s.wallMs / 1000)), daemonCpuMs: Math.round(s.cpuMs), rssPeakMiB: s.rssPeakMiB, ok: !problem, problem, loadavg: loadavg() };
      console.error(JSON.stringify({ case: name, ...row }));
      rs.push(row);
    }
    await sleep(500);
    const measured = rs.filter((r) => !r.warm);
    return {
      case: name, items: n, bodyBytes: Buffer.byteLength(JSON.stringify(body)), deployMs: wf.deployMs, runs: measured, allOk: rs.every((r) => r.ok),
      wallMsMedian: median(measured.map((r) => r.wallMs)), itemsPerSecondMedian: median(measured.map((r) => r.itemsPerSecond)),
      daemonCpuMsMedian: median(measured.map((r) => r.daemonCpuMs)), rssPeakMiBMax: Math.max(...rs.map((r) => r.rssPeakMiB)),
      lastExecution: await lastExecution(wf.id), ...memoryMiB(daemon.pids()), loadavg: loadavg(), at: new Date().toISOString(),
    };
  };
  if (CASES.has('items')) {
    results.items = await runItems('items', itemsWorkflow('bench/items'), ITEM_RUNS);
    console.error(JSON.stringify({ ...results.items, runs: undefined }));
    save();
  }
  if (BRANCHES && CASES.has('branches')) {
    results.branches = await runItems('branches', branchesWorkflow('bench/branches', BRANCHES), 1, BRANCHES).catch((err) => ({ case: 'branches', error: String(err) }));
    console.error(JSON.stringify({ ...results.branches, runs: undefined }));
    save();
  }
  console.log(JSON.stringify(results));
} finally {
  await daemon.stop();
  await db.drop();
}
