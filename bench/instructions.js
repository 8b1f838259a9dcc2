// Instructions per webhook request, counted by valgrind (callgrind): robust where wall clock and CPU time are
// not (a shared, loaded machine). Starts the daemon under `valgrind --tool=callgrind` on a fresh database of
// the external PostgreSQL (its backends are not counted: the figure is the daemon's own work), creates and
// activates the workload, sends N requests (c at a time), stops it (SIGTERM) and reads callgrind's total.
// Run twice with different N: (Ir(N2) − Ir(N1)) ÷ (N2 − N1) is the steady-state cost of one request,
// start-up and JIT warm-up cancelled out. --daemon=<main.js> measures another build (e.g. main's).
//   node bench/instructions.js [--workload=w1] [--requests=200,1200] [--conc=10] [--daemon=apps/daemon/dist/main.js]
// Slow: the daemon runs ~50× slower under valgrind (a few minutes per run).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, createExternalDatabase, DAEMON_MAIN, startDaemon } from './targets.js';
import { post } from './verify.js';
import { BODY } from './workflows.js';

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const workload = args.workload ?? 'w1';
const counts = (args.requests ?? '200,1200').split(',').map(Number);
const conc = Number(args.conc ?? 10);
const main = args.daemon ?? DAEMON_MAIN;
const adminUrl = args['pg-admin-url'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
if (spawnSync('sh', ['-c', 'command -v valgrind'], { stdio: 'ignore' }).status !== 0) {
  console.error('valgrind is not installed (apt-get install valgrind)');
  process.exit(2);
}
const out = join(ROOT, '.bench-out', `instructions-${Date.now()}-${process.pid}`);
mkdirSync(out, { recursive: true });

async function once(n) {
  const db = await createExternalDatabase(adminUrl);
  const log = join(out, `callgrind-${n}.log`);
  let daemon;
  try {
    daemon = await startDaemon({
      name: `callgrind-${n}`, outDir: out, db, main, readyTimeoutMs: 1_800_000, stopGraceMs: 600_000,
      // without Node's compile cache: the first run of a fresh build would compile everything and the
      // second reuse it, so start-up would no longer cancel out in the difference (a fresh build's first
      // pair read 1.16 M instead of ~2.9 M per request)
      extraEnv: { NODE_DISABLE_COMPILE_CACHE: '1' },
      wrapper: ['valgrind', '--tool=callgrind', '--callgrind-out-file=/dev/null', `--log-file=${log}`],
    });
    let next = 0;
    let bad = 0;
    const worker = async () => {
      while (next < n) {
        next++;
        const r = await post(daemon.urls[workload], BODY, 600_000).catch(() => ({ status: 0 }));
        if (r.status !== 200) bad++;
      }
    };
    await Promise.all(Array.from({ length: conc }, worker));
    await daemon.stop();
    const ir = Number(/Collected : (\d+)/.exec(readFileSync(log, 'utf8'))?.[1]);
    return { n, ir, bad };
  } finally {
    if (daemon?.child.exitCode === null) await daemon.stop();
    await db.drop().catch(() => undefined);
  }
}

const runs = [];
for (const n of counts) {
  const r = await once(n);
  runs.push(r);
  console.error(`${n} requests: ${r.ir} instructions${r.bad ? ` (${r.bad} not 200!)` : ''}`);
}
const [a, b] = runs;
const perRequest = b ? Math.round((b.ir - a.ir) / (b.n - a.n)) : undefined;
console.log(JSON.stringify({ workload, conc, daemon: main, runs, instructionsPerRequest: perRequest }));
