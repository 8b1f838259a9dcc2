// Memory of waiting executions (issue 18, "how cost grows with work"): the daemon on a fresh database of the
// external PostgreSQL, a workflow webhook → core.wait (one day, far beyond the engine's wake-up horizon),
// then N executions started through the webhook (202 each), and after each step the daemon's resident memory
// and V8 heap (from /metrics, after a pause for the group commits and idle GCs). Run after `npm run build`:
//   node bench/scale.mjs [--steps=0,5000,15000] [--conc=20] [--pause=5]
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { ADMIN_KEY, ROOT, api, createExternalDatabase, memoryMiB, sleep, startDaemon } from './targets.js';
import { post } from './verify.js';
import { BODY } from './workflows.js';

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const steps = (args.steps ?? '0,5000,15000').split(',').map(Number);
const conc = Number(args.conc ?? 20);
const pause = Number(args.pause ?? 5);
const out = join(ROOT, '.bench-out', `scale-${Date.now()}`);
mkdirSync(out, { recursive: true });

async function heapMiB(base) {
  const text = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } }).then((r) => (r.ok ? r.text() : ''), () => '');
  const v = /^nodejs_heap_size_used_bytes (\S+)/m.exec(text)?.[1];
  return v ? Math.round(Number(v) / 2 ** 20) : undefined;
}

const db = await createExternalDatabase(args['pg-admin-url'] ?? 'postgres://postgres@127.0.0.1:5432/postgres');
const daemon = await startDaemon({ name: 'scale', outDir: out, db });
try {
  const def = {
    name: 'scale: webhook → wait one day',
    nodes: [
      { id: 'hook', type: 'core.trigger.webhook', params: { path: 'bench/wait', method: 'POST', respond: 'immediately' } },
      { id: 'wait', type: 'core.wait', params: { ms: 86_400_000 } },
    ],
    edges: [{ from: 'hook', to: 'wait' }],
  };
  const wf = await api(daemon.base, 'POST', '/api/v1/workflows', def);
  await api(daemon.base, 'POST', `/api/v1/workflows/${wf.id}/activate`);
  const url = `${daemon.base}/hooks/bench/wait`;
  let started = 0;
  const rows = [];
  for (const target of steps) {
    let bad = 0;
    const t0 = performance.now();
    const worker = async () => {
      while (started < target) {
        started++;
        const r = await post(url, BODY, 60_000).catch(() => ({ status: 0 }));
        if (r.status !== 202) bad++;
      }
    };
    await Promise.all(Array.from({ length: conc }, worker));
    const secs = (performance.now() - t0) / 1000;
    await sleep(pause * 1000);
    const waiting = (await api(daemon.base, 'GET', `/api/v1/executions?workflowId=${wf.id}&status=waiting&limit=1`).catch(() => undefined))?.items?.length;
    const row = { waitingExecutions: started, bad, startSeconds: +secs.toFixed(1), ...memoryMiB(daemon.pids()), heapUsedMiB: await heapMiB(daemon.base), anyListedWaiting: waiting };
    rows.push(row);
    console.error(JSON.stringify(row));
  }
  console.log(JSON.stringify({ rows }));
} finally {
  await daemon.stop();
  await db.drop();
}
