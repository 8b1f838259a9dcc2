// Load generation, the peers' way: wrk -t1 -c<C> (closed loop, one thread) with wrk-post.lua, pinned to the
// loader CPU, bounded in time (-d, plus `timeout` of duration + 60 s) and in count (MAX_REQ per thread).
// Falls back to autocannon (in-process here, so the loader's time still is bounded by a guard timer).
// Loopback only: anything else is refused.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BODY } from './workflows.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

export const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
export const loader = () => (has('wrk') ? 'wrk' : 'autocannon');

function pinned(cpu, argv) {
  return cpu !== undefined && cpu !== '' && has('taskset') ? ['taskset', '-c', String(cpu), ...argv] : argv;
}

function run(argv, env) {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

/**
 * One closed-loop load run. Returns the peers' result line:
 * {requests, duration_s, non2xx_or_err, rps (2xx/s), p50_ms, p99_ms, mean_ms, max_ms, ...}
 */
export async function load(url, { conc, seconds, cpu, maxReq = 3_000_000 }) {
  const u = new URL(url);
  if (!LOOPBACK.has(u.hostname)) throw new Error(`refusing to load a non-loopback target: ${url}`);
  if (loader() === 'wrk') {
    const argv = pinned(cpu, ['timeout', String(seconds + 60), 'wrk', '-t1', `-c${conc}`, `-d${seconds}s`, '--timeout', '30s', '-s', `${HERE}wrk-post.lua`, url]);
    const { code, out, err } = await run(argv, { MAX_REQ: String(maxReq) });
    const line = out.trim().split('\n').filter((l) => l.startsWith('{')).pop();
    if (!line) throw new Error(`wrk failed (exit ${code}): ${err || out}`);
    return { loader: 'wrk', ...JSON.parse(line) };
  }
  // autocannon fallback: a child process so that it can be pinned like wrk
  const argv = pinned(cpu, ['timeout', String(seconds + 60), process.execPath, `${HERE}load.js`, url, String(conc), String(seconds), String(maxReq)]);
  const { code, out, err } = await run(argv, {});
  const line = out.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (!line) throw new Error(`autocannon failed (exit ${code}): ${err || out}`);
  return { loader: 'autocannon', ...JSON.parse(line) };
}

// CLI (used by the autocannon fallback): node bench/load.js URL CONNECTIONS SECONDS [MAX_REQ]
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [url, conns, secs, maxReq] = process.argv.slice(2);
  if (!LOOPBACK.has(new URL(url).hostname)) {
    console.error('refusing non-loopback target');
    process.exit(2);
  }
  const { default: autocannon } = await import('autocannon');
  const duration = Number(secs);
  const t0 = process.hrtime.bigint();
  const inst = autocannon({
    url, connections: Number(conns), duration, maxOverallRequests: Number(maxReq || 3_000_000), pipelining: 1, timeout: 30,
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(BODY),
  }, (err, r) => {
    clearTimeout(guard);
    if (err) {
      console.log(JSON.stringify({ error: String(err) }));
      process.exit(1);
    }
    const s = r.duration || Number(process.hrtime.bigint() - t0) / 1e9;
    const bad = r.non2xx + r.errors + r.timeouts;
    console.log(JSON.stringify({
      requests: r['2xx'] + r.non2xx, duration_s: +s.toFixed(3), non2xx_or_err: bad, rps: +(r['2xx'] / s).toFixed(1),
      p50_ms: r.latency.p50, p99_ms: r.latency.p99, mean_ms: r.latency.average, max_ms: r.latency.max,
    }));
  });
  const guard = setTimeout(() => inst.stop(), (duration + 15) * 1000);
}
