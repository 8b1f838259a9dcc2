// Where the daemon's per-request cost comes from, layer by layer, without HTTP: the engine runs W1/W2 in
// this process exactly as the webhook handler drives it (start with awaitDurable:false, then whenFinished,
// which resolves after the final commit), closed loop with c executions in flight, on
//   null      a store that keeps nothing (scheduler + nodes only)
//   memory    the engine's in-memory group-commit store (MemoryExecutionStore)
//   pg        the real PgExecutionStore (group commit) on the external PostgreSQL, fresh database
//   pg-embedded  the same on an embedded PostgreSQL (child of this process, so pinned with it)
// Compare with the daemon over HTTP (bench/run.js) to see what HTTP + NestJS add.
//   node bench/layers.js [--layers=null,memory,pg] [--workloads=w1,w2] [--concs=1,10,50] [--seconds=5] [--warmup=1]
// Prints one JSON line per point; run.js pins it to SERVER_CPU.
import { mkdtempSync, chmodSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Engine, NodeCatalog } from '@anchorflow/engine';
import { MemoryExecutionStore, MemoryWorkflowSource } from '@anchorflow/engine/testing';
import { openDatabase, PgExecutionStore } from '@anchorflow/persistence';
import { InProcessTransport } from '@anchorflow/transport';
import corePlugin from '@anchorflow/plugin-core';
import { backendPids, createExternalDatabase, ownCpuMs, portOpen, treeCpuMs } from './targets.js';
import { BODY, WORKFLOWS, checkResponse } from './workflows.js';

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const list = (v, d) => (v ?? d).split(',').filter(Boolean);
const layers = list(args.layers, 'null,memory,pg');
const workloads = list(args.workloads, 'w1,w2');
const concs = list(args.concs, '1,10,50').map(Number);
const seconds = Number(args.seconds ?? 5);
const warmup = Number(args.warmup ?? 1);
const adminUrl = args['pg-admin-url'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const catalog = new NodeCatalog();
for (const n of corePlugin.nodes) catalog.register(n, corePlugin.name);

function nullStore() {
  const finals = new Map();
  return {
    append(events, view) {
      for (const e of events) if (e.type === 'execution.finished') finals.set(e.executionId, view());
    },
    durable: () => Promise.resolve(), events: async () => [],
    get: async (id) => { const v = finals.get(id); finals.delete(id); return v; },
    unfinished: async () => [], dueWakeUps: async () => [], findResumeToken: async () => undefined, findByDedupeKey: async () => undefined,
  };
}

async function openLayer(layer) {
  if (layer === 'null') return { store: nullStore(), close: async () => {} };
  if (layer === 'memory') return { store: new MemoryExecutionStore(), close: async () => {} };
  if (layer === 'pg') {
    if (!(await portOpen('127.0.0.1', Number(new URL(adminUrl).port || 5432)))) return { skipped: 'no PostgreSQL at 127.0.0.1:5432' };
    const ext = await createExternalDatabase(adminUrl);
    const dataDir = mkdtempSync(join(os.tmpdir(), 'af-bench-layers-'));
    const db = await openDatabase({ databaseUrl: ext.url, dataDir });
    const store = new PgExecutionStore(db);
    return {
      store,
      dbCpu: async () => treeCpuMs(await backendPids(ext.client, ext.name)),
      close: async () => {
        await store.close?.();
        await db.close();
        await ext.drop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  if (layer === 'pg-embedded') {
    const dataDir = mkdtempSync(join(os.tmpdir(), 'af-bench-layers-'));
    chmodSync(dataDir, 0o755);
    const db = await openDatabase({ dataDir });
    const store = new PgExecutionStore(db);
    return {
      store,
      dbCpu: async () => treeCpuMs([process.pid]) - ownCpuMs(process.pid),
      close: async () => {
        await store.close?.();
        await db.close();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  throw new Error(`unknown layer ${layer}`);
}

const pct = (s, q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];

async function closedLoop(engine, w, def, conc, secs) {
  const workflowId = '00000000-0000-4000-8000-0000000000' + (w === 'w1' ? '01' : '02');
  const lat = [];
  let done = 0;
  let bad = 0;
  let next = 1;
  const deadline = performance.now() + secs * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const id = next++;
      const t0 = performance.now();
      const { executionId } = await engine.start({ workflowId, version: 1, definition: def, input: { ...BODY, id }, triggerNodeId: 'hook', awaitDurable: false });
      const view = await engine.whenFinished(executionId, 30_000);
      lat.push(performance.now() - t0);
      const out = view?.status === 'succeeded' ? Object.values(view.output ?? {})[0] : undefined;
      if (checkResponse(w, view?.status === 'succeeded' ? 200 : 500, out, id)) bad++;
      done++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: conc }, worker));
  const s = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  return { executions: done, bad, seconds: +s.toFixed(3), eps: +(done / s).toFixed(1), p50_ms: +pct(lat, 0.5).toFixed(3), p99_ms: +pct(lat, 0.99).toFixed(3) };
}

for (const layer of layers) {
  const opened = await openLayer(layer);
  if (opened.skipped) {
    console.log(JSON.stringify({ layer, skipped: opened.skipped }));
    continue;
  }
  try {
    const engine = new Engine({ store: opened.store, transport: new InProcessTransport(catalog), catalog, workflows: new MemoryWorkflowSource() });
    for (const w of workloads) {
      const def = WORKFLOWS[w].make(`bench/${w}`);
      for (const c of concs) {
        await closedLoop(engine, w, def, c, warmup);
        const cpu0 = process.cpuUsage();
        const db0 = await opened.dbCpu?.();
        const r = await closedLoop(engine, w, def, c, seconds);
        const cpu = process.cpuUsage(cpu0);
        const db1 = await opened.dbCpu?.();
        const processUs = (cpu.user + cpu.system) / r.executions;
        console.log(JSON.stringify({
          layer, workload: w, conc: c, ...r, processUsPerExec: +processUs.toFixed(1),
          ...(db0 !== undefined ? { dbUsPerExec: +(((db1 - db0) * 1000) / r.executions).toFixed(1) } : {}),
          ...(opened.store.stats ? { store: opened.store.stats() } : {}),
          loadavg: os.loadavg().map((x) => x.toFixed(2)).join(' '),
        }));
      }
    }
  } finally {
    await opened.close();
  }
}
process.exit(0);
