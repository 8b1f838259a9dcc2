// What the audit log's entries for execution events cost PostgreSQL, by how many executions one entry lists
// (issue 18): the real mapping (toAuditFields), chain (PgAuditLog: advisory lock, head, one INSERT per batch)
// and table (migrations) on a fresh database of the external PostgreSQL, fed W1 executions' events as the
// engine emits them, in batches of 45 executions (what the writer commits per transaction at W1 c=10).
// Prints, per grouping: the backends' CPU per execution (from /proc), the round trips' time per execution,
// the details' size per entry and the table's size (heap + TOAST + indexes) per execution.
//   node bench/audit-entries.mjs [--executions=20000] [--groupings=1,5,15,45] [--reps=3]
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Engine, NodeCatalog } from '@anchorflow/engine';
import { MemoryWorkflowSource } from '@anchorflow/engine/testing';
import { InProcessTransport } from '@anchorflow/transport';
import { openDatabase, PgAuditLog } from '@anchorflow/persistence';
import { Redactor } from '@anchorflow/security';
import corePlugin from '@anchorflow/plugin-core';
import { toAuditFields } from '../apps/daemon/dist/audit/audit-entries.js';
import { backendPids, createExternalDatabase, treeCpuMs } from './targets.js';
import { BODY, WORKFLOWS } from './workflows.js';

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const executions = Number(args.executions ?? 20000);
const groupings = (args.groupings ?? '1,5,15,45').split(',').map(Number);
const reps = Number(args.reps ?? 3);
const BATCH = 45;

// one W1 execution's events, as the engine emits them
const catalog = new NodeCatalog();
for (const n of corePlugin.nodes) catalog.register(n, corePlugin.name);
const emitted = [];
const finals = new Map();
const store = {
  append(events, view) { emitted.push(...events); for (const e of events) if (e.type === 'execution.finished') finals.set(e.executionId, view()); },
  durable: () => Promise.resolve(), events: async () => [], get: async (id) => finals.get(id),
  unfinished: async () => [], dueWakeUps: async () => [], findResumeToken: async () => undefined, findByDedupeKey: async () => undefined,
};
const engine = new Engine({ store, transport: new InProcessTransport(catalog), catalog, workflows: new MemoryWorkflowSource() });
const { executionId: sample } = await engine.start({ workflowId: '00000000-0000-4000-8000-000000000001', version: 1, definition: WORKFLOWS.w1.make(), input: { ...BODY, id: 1 }, triggerNodeId: 'hook', awaitDurable: false });
await engine.whenFinished(sample, 5000);
const eventsOf = (i) => emitted.map((e) => ({ ...e, executionId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}` }));
const redactor = new Redactor();

async function measure(perEntry) {
  const ext = await createExternalDatabase('postgres://postgres@127.0.0.1:5432/postgres');
  const dataDir = mkdtempSync(join(os.tmpdir(), 'af-bench-audit-'));
  const db = await openDatabase({ databaseUrl: ext.url, dataDir });
  try {
    const log = new PgAuditLog(db);
    await log.append([{ actor: 'system', action: 'warm', target: 'bench', details: {} }]);
    let bytes = 0;
    let entries = 0;
    let wallMs = 0;
    const cpu0 = treeCpuMs(await backendPids(ext.client, ext.name));
    for (let b = 0; b < executions; b += BATCH) {
      const fields = [];
      for (let i = b; i < Math.min(b + BATCH, executions); i += perEntry) {
        const groups = [];
        for (let k = i; k < Math.min(i + perEntry, b + BATCH, executions); k++) groups.push(eventsOf(k));
        const f = toAuditFields(groups.length === 1 ? groups[0] : groups, redactor);
        bytes += JSON.stringify(f.details).length;
        fields.push(f);
      }
      entries += fields.length;
      const t0 = performance.now();
      await log.append(fields);
      wallMs += performance.now() - t0;
    }
    const cpuMs = treeCpuMs(await backendPids(ext.client, ext.name)) - cpu0;
    const size = (await ext.client.query(`SELECT pg_total_relation_size('audit_entry')::float8 AS size`)).rows[0].size;
    return { perEntry, entries, pgCpuUsPerExecution: +((cpuMs * 1000) / executions).toFixed(1), appendUsPerExecution: +((wallMs * 1000) / executions).toFixed(1), detailsBytesPerEntry: Math.round(bytes / entries), tableBytesPerExecution: Math.round(size / executions) };
  } finally {
    await db.close();
    await ext.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

for (let rep = 1; rep <= reps; rep++) {
  for (const g of groupings) console.log(JSON.stringify({ rep, executions, ...(await measure(g)), loadavg: os.loadavg().map((x) => x.toFixed(2)).join(' ') }));
}
process.exit(0);
