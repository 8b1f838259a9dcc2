// Where the daemon's time goes under load: starts it with --cpu-prof, loads one workload, stops it, and
// summarises the profile of the load window (self time by component and by function, inclusive time).
//   node bench/profile.js [--target=external|embedded] [--workload=w1] [--conc=10] [--seconds=10] [--warmup=2] [--nolimit]
//   node bench/profile.js --summarise=<file.cpuprofile> [--from-us=..] [--to-us=..]
// Writes .bench-out/profile-<timestamp>/ (the .cpuprofile opens in Chrome DevTools) and prints markdown.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load } from './load.js';
import { ROOT, createExternalDatabase, loadavg, portOpen, settle, sleep, startDaemon, treeCpuMs } from './targets.js';

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));

/** component of a call frame: a package, one of ours, node internals, or a V8 pseudo-frame */
function component(cf) {
  const url = cf.url || '';
  if (!url) {
    if (cf.functionName.startsWith('(')) return cf.functionName; // (idle) (program) (garbage collector)
    return cf.functionName ? '(native/builtin)' : '(anonymous native)';
  }
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = path.slice(nm + 14).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const rel = relative(ROOT, path);
  const m = /^(libs|apps|plugins)\/([^/]+)\//.exec(rel);
  return m ? `${m[1]}/${m[2]}` : rel;
}

const where = (cf) => {
  const path = (cf.url || '').replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('/node_modules/');
  const short = nm >= 0 ? path.slice(nm + 14) : path.startsWith('/') ? relative(ROOT, path) : path;
  return `${cf.functionName || '(anonymous)'} ${short ? `${short.replace(/\/dist\//, '/')}:${cf.lineNumber + 1}` : ''}`.trim();
};

/** subsystem of a call frame (by its file), or undefined for frames that only carry others' work */
const BUCKETS = [
  ['webhook rate limit (@nestjs/throttler)', /@nestjs\/throttler|security\/rate-limit/],
  ['audit log (hash chain, canonical JSON, its inserts)', /\/audit\//],
  ['metrics (prom-client)', /prom-client|\/metrics\//],
  ['logging (pino, pino-http, redaction)', /\/pino|@pinojs|\/logging\/|log-redaction|redaction\//],
  ['execution store (group commit, pg driver)', /libs\/persistence|\/node_modules\/pg(-[a-z]+)?\//],
  ['engine + nodes (scheduler, core.set, merge)', /libs\/engine|plugins\/core|libs\/plugin-sdk|libs\/transport/],
  ['HTTP + Express + NestJS (routing, body parsing, guards, interceptors, security headers)', /express|router|body-parser|raw-body|@nestjs|rxjs|helmet|path-to-regexp|type-is|on-finished|iconv|qs\/|content-type|finalhandler|apps\/daemon|libs\/security|node:_http|node:net|node:stream|node:internal\/streams|node:internal\/http/],
];
function bucketOf(cf) {
  if (!cf.url) return cf.functionName === '(garbage collector)' ? 'garbage collector' : cf.functionName === '(idle)' ? 'idle (waiting for I/O)' : undefined;
  for (const [name, re] of BUCKETS) if (re.test(cf.url)) return name;
  return undefined;
}

export function summarise(profile, { fromUs = -Infinity, toUs = Infinity, top = 25 } = {}) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map();
  const comp = new Map();
  const incl = new Map();
  const inclComp = new Map();
  const buckets = new Map();
  let t = profile.startTime;
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i];
    if (t < fromUs || t > toUs) continue;
    const dt = profile.timeDeltas[i + 1] ?? profile.timeDeltas[i];
    const node = byId.get(profile.samples[i]);
    total += dt;
    const key = where(node.callFrame);
    self.set(key, (self.get(key) ?? 0) + dt);
    const c = component(node.callFrame);
    comp.set(c, (comp.get(c) ?? 0) + dt);
    let b;
    for (let id = node.id; id !== undefined && !b; id = parent.get(id)) b = bucketOf(byId.get(id).callFrame);
    b ??= node.callFrame.functionName === '(program)' ? 'V8/Node internals ((program))' : 'other (microtask/timer plumbing, natives)';
    buckets.set(b, (buckets.get(b) ?? 0) + dt);
    const seen = new Set();
    const seenC = new Set();
    for (let id = node.id; id !== undefined; id = parent.get(id)) {
      const cf = byId.get(id).callFrame;
      const k = where(cf);
      if (!seen.has(k)) {
        seen.add(k);
        incl.set(k, (incl.get(k) ?? 0) + dt);
      }
      const cc = component(cf);
      if (!seenC.has(cc)) {
        seenC.add(cc);
        inclComp.set(cc, (inclComp.get(cc) ?? 0) + dt);
      }
    }
  }
  const pct = (v) => `${((v / total) * 100).toFixed(1)} %`;
  const sorted = (m) => [...m.entries()].sort((a, b) => b[1] - a[1]);
  const out = [];
  out.push(`Window: ${(total / 1e6).toFixed(2)} s of samples.`, '');
  out.push('| subsystem (each sample goes to the innermost frame that belongs to one) | share of main-thread time |', '|---|---|');
  for (const [k, v] of sorted(buckets)) out.push(`| ${k} | ${pct(v)} |`);
  out.push('');
  out.push('| component | self | inclusive (on the stack) |', '|---|---|---|');
  for (const [k, v] of sorted(comp).slice(0, top)) out.push(`| ${k} | ${pct(v)} | ${pct(inclComp.get(k) ?? 0)} |`);
  out.push('', '| function (self time) | self |', '|---|---|');
  for (const [k, v] of sorted(self).slice(0, top)) out.push(`| ${k.replaceAll('|', '\\|')} | ${pct(v)} |`);
  out.push('', '| function (inclusive time, excluding (root)) | inclusive |', '|---|---|');
  for (const [k, v] of sorted(incl).filter(([k]) => !k.startsWith('(root)')).slice(0, top)) out.push(`| ${k.replaceAll('|', '\\|')} | ${pct(v)} |`);
  return out.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (args.summarise) {
    const prof = JSON.parse(readFileSync(args.summarise, 'utf8'));
    console.log(summarise(prof, { fromUs: Number(args['from-us'] ?? -Infinity), toUs: Number(args['to-us'] ?? Infinity), top: Number(args.top ?? 25) }));
    process.exit(0);
  }
  const target = args.target ?? ((await portOpen('127.0.0.1', 5432)) ? 'external' : 'embedded');
  const workload = args.workload ?? 'w1';
  const conc = Number(args.conc ?? 10);
  const seconds = Number(args.seconds ?? 10);
  const warmup = Number(args.warmup ?? 2);
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  const OUT = args.out ?? join(ROOT, '.bench-out', `profile-${stamp}`);
  const profDir = join(OUT, 'cpuprofile');
  mkdirSync(profDir, { recursive: true });
  const db = target === 'external' ? await createExternalDatabase(args['pg-admin-url'] ?? 'postgres://postgres@127.0.0.1:5432/postgres') : undefined;
  let daemon;
  try {
    // --nolimit: webhook rate limit off (security.rateLimit.hooks.limit = 0)
    const extraEnv = args.nolimit !== undefined ? { ANCHORFLOW_SECURITY_RATE_LIMIT_HOOKS_LIMIT: '0' } : {};
    daemon = await startDaemon({ name: `profile-${target}`, cpu: args['server-cpu'] ?? '1', outDir: OUT, db, extraEnv, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`, '--cpu-prof-interval=200'] });
    await settle(daemon.urls[workload]);
    await load(daemon.urls[workload], { conc, seconds: warmup, cpu: args['loader-cpu'] ?? '0' });
    const la0 = loadavg();
    const cpu0 = treeCpuMs(daemon.pids());
    const t0 = performance.now();
    const r = await load(daemon.urls[workload], { conc, seconds, cpu: args['loader-cpu'] ?? '0' });
    const t1 = performance.now();
    const cpuMs = treeCpuMs(daemon.pids()) - cpu0;
    await sleep(300);
    const t2 = performance.now();
    const how = await daemon.stop();
    const t3 = performance.now();
    const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error(`no profile written (daemon stopped: ${how})`);
    const prof = JSON.parse(readFileSync(join(profDir, file), 'utf8'));
    // the profile ends at exit: place the load window from the end (exit happened between t2 and t3)
    const endUs = prof.endTime;
    const exitAt = (t2 + t3) / 2;
    const fromUs = endUs - (exitAt - t0) * 1000 + 500_000;
    const toUs = endUs - (exitAt - t1) * 1000 - 200_000;
    const head = `Profile of the daemon (${target} Postgres${args.nolimit !== undefined ? ', webhook rate limit off' : ''}) under ${workload} at c=${conc} for ${seconds} s (wrk): ${r.rps} rps, p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms; daemon process tree CPU ${(cpuMs / 1000).toFixed(1)} s (${((cpuMs * 1000) / r.requests).toFixed(0)} µs/request); load average ${la0} → ${loadavg()}. Sampling interval 200 µs; window = the measured run minus its first 0.5 s.`;
    const md = `${head}\n\n${summarise(prof, { fromUs, toUs })}\n`;
    writeFileSync(join(OUT, 'profile.md'), md);
    writeFileSync(join(OUT, 'profile.json'), JSON.stringify({ target, workload, conc, seconds, r, cpuMs, file, fromUs, toUs }, null, 1));
    console.log(md);
    console.error(`profile: ${join(profDir, file)}`);
  } finally {
    await db?.drop().catch(() => undefined);
  }
}
