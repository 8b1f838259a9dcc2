// Renders a results directory written by bench/run.js as markdown.
//   node bench/report.js .bench-out/<timestamp>                      → prints the report
//   node bench/report.js .bench-out/<timestamp> --update BENCHMARKS.md → replaces the part of BENCHMARKS.md
//     between <!-- bench:results:begin --> and <!-- bench:results:end --> with it
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const readJsonl = (f) => (existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []);
const med = (a) => {
  const s = a.filter(Number.isFinite).sort((x, y) => x - y);
  const n = s.length;
  return n ? (n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2) : NaN;
};
const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const fr = (a, d) => (a.length > 1 ? `${f(med(a), d)} [${f(Math.min(...a), d)}–${f(Math.max(...a), d)}]` : f(a[0], d));

export const TARGETS = { nodeRedRatioW1c10: 0.16, usPerNode: 20, validateMs: 50 };
const LABEL = {
  baseline: 'baseline (plain Node 24)',
  'baseline-node20': 'baseline (plain Node 20, as the peers ran it)',
  embedded: 'Anchorflow, embedded Postgres',
  external: 'Anchorflow, external Postgres',
  'embedded-nolimit': 'Anchorflow, embedded Postgres, webhook rate limit off',
  'external-nolimit': 'Anchorflow, external Postgres, webhook rate limit off',
  'node-red': 'Node-RED 4.1.8 (persists nothing)',
  'embedded-base': 'Anchorflow BASE build (BASE_DAEMON), embedded Postgres',
  'external-base': 'Anchorflow BASE build (BASE_DAEMON), external Postgres',
  'embedded-nochain': 'Anchorflow, embedded Postgres, history hash chain off',
  'external-nochain': 'Anchorflow, external Postgres, history hash chain off',
};
const ANCHORFLOW = (t) => t === 'embedded' || t === 'external' || t.startsWith('embedded-') || t.startsWith('external-');

export function collect(dir) {
  const results = readJsonl(join(dir, 'results.jsonl')).filter((x) => x.r);
  const groups = new Map();
  for (const x of results) {
    const k = `${x.target}|${x.workload}|${x.conc}`;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(x);
  }
  const get = (t, w, c) => groups.get(`${t}|${w}|${c}`) ?? [];
  const metric = (t, w, c, m) => get(t, w, c).map((x) => x.r[m]);
  return { results, groups, get, metric };
}

export function renderReport(dir) {
  const out = [];
  const p = (s = '') => out.push(s);
  const env = existsSync(join(dir, 'env.json')) ? JSON.parse(readFileSync(join(dir, 'env.json'), 'utf8')) : {};
  const { results, get, metric } = collect(dir);
  const targets = [...new Set(results.map((x) => x.target))];
  const workloads = [...new Set(results.map((x) => x.workload))];
  const concs = [...new Set(results.map((x) => x.conc))].sort((a, b) => a - b);
  const reps = Math.max(0, ...results.map((x) => x.rep));

  p(`Run \`${basename(dir)}\` (${env.startedAt ?? '?'} → ${env.finishedAt ?? '?'}), command: \`${env.command ?? 'node bench/run.js'}\``);
  p();
  p(`Machine: ${env.nproc} × ${env.model ?? '?'}, ${env.memTotalMiB} MiB RAM, Linux ${env.kernel}; our Node ${env.node}${env.systemNode ? `, system Node ${env.systemNode}` : ''}; load generator ${env.loader}${env.wrk ? ` (${env.wrk})` : ''}; ${env.taskset ? `server pinned to CPU ${env.config?.serverCpu}, load generator to CPU ${env.config?.loaderCpu}` : 'unpinned (no taskset)'}. Load average (1/5/15 min) at start ${env.loadavgStart}, at end ${env.loadavgEnd ?? '?'}. ${env.config ? `${env.config.duration} s measured after ${env.config.warmup} s warm-up per point, ${env.config.reps} repetition(s)` : ''}${env.commit ? `; commit ${env.commit}${env.dirtyFiles ? ` + ${env.dirtyFiles} uncommitted files` : ''}` : ''}.`);
  p();

  const eng = existsSync(join(dir, 'engine.json')) ? JSON.parse(readFileSync(join(dir, 'engine.json'), 'utf8')) : undefined;
  if (eng) {
    p(`#### Engine only (bench/engine-overhead.mjs, in-process, no HTTP, no database; load average ${eng.loadavgStart} → ${eng.loadavgEnd})`);
    p();
    p('| measurement | median | best | target | met |');
    p('|---|---|---|---|---|');
    for (const x of eng.results) {
      if (x.usPerNodeMedian !== undefined) {
        const target = x.label.includes('null store') ? `≤ ${TARGETS.usPerNode} µs/node` : '';
        p(`| ${x.label} (${x.nodes}-node chain, ${x.runs} runs) | ${x.usPerNodeMedian} µs/node | ${x.usPerNodeMin} µs/node | ${target} | ${target ? (x.usPerNodeMedian <= TARGETS.usPerNode ? 'yes' : 'NO') : ''} |`);
      } else {
        p(`| ${x.label} of ${x.nodes} nodes, ${x.edges} edges | ${x.msMedian} ms | ${x.msMin} ms | < ${TARGETS.validateMs} ms | ${x.msMedian < TARGETS.validateMs ? 'yes' : 'NO'} |`);
      }
    }
    p();
  }

  const hasDb = results.some((x) => x.cpu?.dbUsPerReq !== undefined);
  const hasB20 = targets.includes('baseline-node20');
  const title = { w1: 'W1: webhook → 10 × core.set → response (11 nodes)', w2: 'W2: webhook → fan-out 8 branches × 3 core.set → merge → response (27 nodes)' };
  for (const w of workloads) {
    p(`#### ${title[w] ?? w}`);
    p();
    p(`| target | c | rps | p50 ms | p99 ms | errors | rps ÷ base | p50 ÷ base | p99 ÷ base |${hasB20 ? ' rps ÷ base Node 20 |' : ''} CPU µs/req: server process${hasDb ? ' + Postgres' : ''} | CPU ÷ base | load avg 1 min (start → end) |${reps > 1 ? ' reps |' : ''}`);
    p(`|---|---|---|---|---|---|---|---|---|${hasB20 ? '---|' : ''}---|---|---|${reps > 1 ? '---|' : ''}`);
    for (const t of targets) {
      for (const c of concs) {
        const g = get(t, w, c);
        if (!g.length) continue;
        const rps = metric(t, w, c, 'rps');
        const b = (m, tt = 'baseline') => med(metric(tt, w, c, m));
        const errs = g.reduce((a, x) => a + (x.r.non2xx_or_err ?? 0), 0);
        const cpu = g.map((x) => x.cpu?.processUsPerReq ?? x.cpu?.serverUsPerReq);
        const db = g.map((x) => x.cpu?.dbUsPerReq).filter((v) => v !== undefined);
        const allCpu = med(g.map((x) => (x.cpu?.processUsPerReq ?? x.cpu?.serverUsPerReq) + (x.cpu?.dbUsPerReq ?? 0)));
        const baseCpu = med(get('baseline', w, c).map((x) => x.cpu?.processUsPerReq ?? x.cpu?.serverUsPerReq));
        const la = g.map((x) => `${(x.loadavgStart ?? '').split(' ')[0]} → ${x.loadavg.split(' ')[0]}`).join('; ');
        p(`| ${LABEL[t] ?? t} | ${c} | ${fr(rps, 0)} | ${fr(metric(t, w, c, 'p50_ms'), 2)} | ${fr(metric(t, w, c, 'p99_ms'), 2)} | ${errs} | ${f(med(rps) / b('rps'), 3)} | ${f(med(metric(t, w, c, 'p50_ms')) / b('p50_ms'), 1)} | ${f(med(metric(t, w, c, 'p99_ms')) / b('p99_ms'), 1)} |${hasB20 ? ` ${f(med(rps) / b('rps', 'baseline-node20'), 3)} |` : ''} ${f(med(cpu), 0)}${db.length ? ` + ${f(med(db), 0)}` : ''} | ${f(allCpu / baseCpu, 1)}× | ${la} |${reps > 1 ? ` ${g.length} |` : ''}`);
      }
    }
    p();
  }
  p('rps = 2xx responses per second (closed loop: c requests always in flight); latency measured by the client; ratios are target ÷ baseline (plain Node 24 unless stated) at the same workload and concurrency, medians over repetitions. CPU µs/req = user+system CPU time during the measured run ÷ responses, read from /proc: the server process (Node), plus Postgres: for the embedded one its whole process tree (it is the daemon\'s child, pinned to the same CPU), for the external one the backends connected to the benchmark database (not pinned: they run on any core). CPU ÷ base = (process + Postgres) ÷ the baseline\'s CPU per request: how much more work a request costs, independent of how busy the shared machine was.');
  p();

  // Anchorflow ÷ Node-RED, same run: throughput and the CPU time a request costs (robust to a loaded machine)
  const cpuOf = (t, w, c) => med(get(t, w, c).map((x) => (x.cpu?.processUsPerReq ?? x.cpu?.serverUsPerReq) + (x.cpu?.dbUsPerReq ?? 0)));
  if (targets.includes('node-red')) {
    p('#### Anchorflow ÷ Node-RED (same run)');
    p();
    p('| workload | c | Node-RED rps | Node-RED CPU µs/req | Anchorflow target | rps | rps ÷ Node-RED | CPU µs/req (Node + Postgres) | CPU ÷ Node-RED | p99 ms (Node-RED / Anchorflow) |');
    p('|---|---|---|---|---|---|---|---|---|---|');
    for (const w of workloads) {
      for (const c of concs) {
        const nr = med(metric('node-red', w, c, 'rps'));
        if (!Number.isFinite(nr)) continue;
        for (const t of targets.filter(ANCHORFLOW)) {
          const a = med(metric(t, w, c, 'rps'));
          if (!Number.isFinite(a)) continue;
          p(`| ${w} | ${c} | ${f(nr, 0)} | ${f(cpuOf('node-red', w, c), 0)} | ${LABEL[t] ?? t} | ${f(a, 0)} | ${f(a / nr, 2)} | ${f(cpuOf(t, w, c), 0)} | ${f(cpuOf(t, w, c) / cpuOf('node-red', w, c), 2)} | ${f(med(metric('node-red', w, c, 'p99_ms')), 1)} / ${f(med(metric(t, w, c, 'p99_ms')), 1)} |`);
        }
      }
    }
    p();
  }
  // this build ÷ the BASE build (BASE_DAEMON), same run
  const based = targets.filter((t) => t.endsWith('-base') && targets.includes(t.slice(0, -5)));
  if (based.length) {
    p('#### This build ÷ the base build (same run)');
    p();
    p('| target | workload | c | rps base → this | rps ratio | CPU µs/req (Node + Postgres) base → this | CPU ratio |');
    p('|---|---|---|---|---|---|---|');
    for (const b of based) {
      const t = b.slice(0, -5);
      for (const w of workloads) {
        for (const c of concs) {
          const rb = med(metric(b, w, c, 'rps'));
          const rt = med(metric(t, w, c, 'rps'));
          if (!Number.isFinite(rb) || !Number.isFinite(rt)) continue;
          p(`| ${t} | ${w} | ${c} | ${f(rb, 0)} → ${f(rt, 0)} | ${f(rt / rb, 2)}× | ${f(cpuOf(b, w, c), 0)} → ${f(cpuOf(t, w, c), 0)} | ${f(cpuOf(t, w, c) / cpuOf(b, w, c), 2)}× |`);
        }
      }
    }
    p();
  }
  // memory: idle (after start-up) and right after each measured run
  const stm = readJsonl(join(dir, 'startup.jsonl')).filter((x) => x.idleMemMiB);
  if (stm.length) {
    p('#### Memory (MiB): server process RSS, and its process tree\'s PSS (an embedded Postgres included, shared pages counted once)');
    p();
    p(`| target | idle RSS | idle tree PSS | ${workloads.flatMap((w) => concs.map((c) => `${w} c=${c} RSS / PSS`)).join(' | ')} |`);
    p(`|---|---|---|${workloads.flatMap(() => concs.map(() => '---|')).join('')}`);
    for (const t of [...new Set(stm.map((x) => x.target))]) {
      const idle = stm.filter((x) => x.target === t);
      const cells = workloads.flatMap((w) => concs.map((c) => {
        const g = get(t, w, c).filter((x) => x.memMiB);
        return g.length ? `${f(med(g.map((x) => x.memMiB.rss)), 0)} / ${f(med(g.map((x) => x.memMiB.treePss)), 0)}` : '';
      }));
      p(`| ${LABEL[t] ?? t} | ${f(med(idle.map((x) => x.idleMemMiB.rss)), 0)} | ${f(med(idle.map((x) => x.idleMemMiB.treePss)), 0)} | ${cells.join(' | ')} |`);
    }
    p();
  }

  const layers = readJsonl(join(dir, 'layers.jsonl')).filter((x) => !x.skipped);
  if (layers.length) {
    const LL = { null: 'engine, store keeps nothing', memory: 'engine, in-memory store', pg: 'engine + PgExecutionStore, external Postgres', 'pg-embedded': 'engine + PgExecutionStore, embedded Postgres' };
    const daemonOf = { pg: 'external', 'pg-embedded': 'embedded' };
    p('#### Layers: the same executions without HTTP (bench/layers.js, engine in-process driven like the webhook handler, closed loop)');
    p();
    p('| layer | workload | c | executions/s | p50 ms | p99 ms | CPU µs/exec: Node + Postgres | daemon over HTTP, CPU µs/req: Node + Postgres | so HTTP + NestJS add (Node µs/req) | load avg |');
    p('|---|---|---|---|---|---|---|---|---|---|');
    for (const x of layers) {
      const d = daemonOf[x.layer] ? get(daemonOf[x.layer], x.workload, x.conc) : [];
      const dn = med(d.map((y) => y.cpu?.processUsPerReq));
      const dd = med(d.map((y) => y.cpu?.dbUsPerReq));
      p(`| ${LL[x.layer] ?? x.layer} | ${x.workload} | ${x.conc} | ${f(x.eps, 0)} | ${f(x.p50_ms, 2)} | ${f(x.p99_ms, 2)} | ${f(x.processUsPerExec, 0)}${x.dbUsPerExec !== undefined ? ` + ${f(x.dbUsPerExec, 0)}` : ''} | ${d.length ? `${f(dn, 0)} + ${f(dd, 0)}` : ''} | ${d.length ? f(dn - x.processUsPerExec, 0) : ''} | ${x.loadavg.split(' ')[0]} |`);
    }
    p();
  }

  const st = readJsonl(join(dir, 'startup.jsonl'));
  if (st.length) {
    p('#### Start-up and skipped targets');
    p();
    p('| target | rep | spawn → listening ms | spawn → first 200 on W1 ms (daemon: workflows created + activated; Node-RED: flows loaded from its flow file) | settled s | note |');
    p('|---|---|---|---|---|---|');
    for (const s of st) p(`| ${LABEL[s.target] ?? s.target} | ${s.rep} | ${s.listeningMs ?? '-'} | ${s.firstOkMs ?? '-'} | ${s.settle?.seconds ?? '-'} | ${s.skipped ? `skipped: ${s.skipped}` : s.error ? `FAILED: ${s.error.slice(0, 200)}` : s.importMs !== undefined ? `flows imported through the Admin API in ${s.importMs} ms (provisioning boot)` : ''} |`);
    p();
  }

  const vf = readJsonl(join(dir, 'verify.jsonl'));
  const du = readJsonl(join(dir, 'durability.jsonl'));
  p('#### Correctness and durability');
  p();
  p(`- Correctness under concurrency (${vf[0]?.n ?? 50} concurrent requests with distinct ids; every response must be its own request's, with all fields / all 8 branches): ${vf.length} checks, ${vf.filter((v) => v.bad).length} failed${vf.filter((v) => v.bad).map((v) => ` (${v.target} ${v.workload}: ${v.bad}/${v.n} bad: ${v.errors[0]})`).join('')}.`);
  const errT = {};
  for (const x of results) errT[x.target] = (errT[x.target] ?? 0) + (x.r.non2xx_or_err ?? 0);
  p(`- Non-2xx / socket errors in measured runs: ${Object.entries(errT).map(([t, n]) => `${t} ${n}`).join(', ')}.`);
  const errs = readJsonl(join(dir, 'errors.jsonl'));
  if (errs.length) p(`- Harness errors: ${errs.map((e) => `${e.target} rep${e.rep}: ${e.error.split('\n')[0]}`).join('; ')}.`);
  p();
  if (du.length) {
    p('Durability: every 2xx response (start-up probes, verify, warm-ups, measured runs) is an execution the daemon must have committed before answering. Afterwards the executions of each workflow are counted through `GET /api/v1/executions?workflowId=…` (paging), node runs checked on a sample through `GET /api/v1/executions/:id`, and on the external Postgres every execution is checked in SQL. More executions than 200s is expected: requests in flight when wrk stops (at most c per run) still execute.');
    p();
    p('| target | rep | workload | 2xx responses | executions (API) | by status | node runs complete | in flight at wrk stop ≤ | verdict |');
    p('|---|---|---|---|---|---|---|---|---|');
    for (const d of du) {
      const runs = d.sql?.error ? `SQL check failed (${d.sql.error}); ${d.nodeRunSample.good}/${d.nodeRunSample.sampled} sampled via API` : d.sql ? `${d.sql.completeNodeRuns}/${d.sql.total} (SQL, every execution's events: ${d.sql.nodeSucceededEvents} node.succeeded in ${d.sql.events} events); ${d.nodeRunSample.good}/${d.nodeRunSample.sampled} sampled via API` : `${d.nodeRunSample.good}/${d.nodeRunSample.sampled} sampled (API)`;
      p(`| ${LABEL[d.target] ?? d.target} | ${d.rep} | ${d.workload} | ${d.responses200} | ${d.api.total} | ${Object.entries(d.api.byStatus).map(([k, v]) => `${k} ${v}`).join(', ')} | ${runs} | ${d.inflightAllowance} | ${d.ok ? 'OK: executions ≥ 2xx, all recorded' : 'MISMATCH'} |`);
    }
    p();
  }
  const gc = readJsonl(join(dir, 'commits.jsonl'));
  if (gc.length) {
    p('#### Group commit, measured (external Postgres): transactions that inserted the events of the executions started during each measured run (distinct `xmin` of the `execution_event` rows holding their events)');
    p();
    const au = gc.some((g) => g.audit);
    p(`| rep | workload | c | executions | events | rows written | commits | executions per commit | commits per execution |${au ? ' audit log: entries / commits (same window) |' : ''}`);
    p(`|---|---|---|---|---|---|---|---|---|${au ? '---|' : ''}`);
    for (const g of gc) p(`| ${g.rep} | ${g.workload} | ${g.conc} | ${g.executions} | ${g.events} | ${g.event_rows ?? g.events} | ${g.transactions} | ${f(g.executions / g.transactions, 2)} | ${f(Number(g.commits_per_execution), 2)} |${au ? ` ${g.audit ? `${g.audit.entries} / ${g.audit.transactions}` : ''} |` : ''}`);
    p();
  }

  // targets
  const lines = [];
  for (const t of ['embedded', 'external']) {
    const r = med(metric(t, 'w1', 10, 'rps')) / med(metric('baseline', 'w1', 10, 'rps'));
    if (Number.isFinite(r)) {
      const r20 = med(metric(t, 'w1', 10, 'rps')) / med(metric('baseline-node20', 'w1', 10, 'rps'));
      lines.push(`- W1 at c=10, ${LABEL[t]}: ${f(r, 3)}× the plain-Node 24 baseline${Number.isFinite(r20) ? ` (${f(r20, 3)}× the Node 20 baseline the peers used)` : ''} vs Node-RED's ${TARGETS.nodeRedRatioW1c10}× → ${r >= TARGETS.nodeRedRatioW1c10 ? 'met' : `MISSED by ${f((1 - r / TARGETS.nodeRedRatioW1c10) * 100, 0)} %`}.`);
    }
  }
  if (eng) {
    const o = eng.results.find((x) => x.label.includes('core.noop chain, null store'));
    const v = eng.results.find((x) => x.label === 'validate+sort');
    if (o) lines.push(`- Engine overhead per node: ${o.usPerNodeMedian} µs (median, core.noop chain) vs ≤ ${TARGETS.usPerNode} µs → ${o.usPerNodeMedian <= TARGETS.usPerNode ? 'met' : 'MISSED'}.`);
    if (v) lines.push(`- Validate + sort ${v.nodes} nodes: ${v.msMedian} ms (median) vs < ${TARGETS.validateMs} ms → ${v.msMedian < TARGETS.validateMs ? 'met' : 'MISSED'}.`);
  }
  if (lines.length) {
    p('#### Targets (issue #2)');
    p();
    for (const l of lines) p(l);
    p();
  }
  return out.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [dir, flag, file] = process.argv.slice(2);
  if (!dir) {
    console.error('usage: node bench/report.js <results dir> [--update BENCHMARKS.md]');
    process.exit(2);
  }
  const md = renderReport(dir);
  if (flag === '--update') {
    const doc = readFileSync(file, 'utf8');
    const re = /(<!-- bench:results:begin -->)[\s\S]*?(<!-- bench:results:end -->)/;
    if (!re.test(doc)) throw new Error(`${file} has no <!-- bench:results:begin/end --> markers`);
    writeFileSync(file, doc.replace(re, (_m, a, b) => `${a}\n${md.replace(/^####/gm, '###')}\n${b}`));
    console.error(`updated ${file}`);
  } else {
    console.log(md);
  }
}
