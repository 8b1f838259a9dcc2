// What one group-commit flush costs inside PostgreSQL: runs N real W1 (or W2) executions through the
// engine with a store that only captures what it is given, builds the exact flush statement the
// PgExecutionStore sends for that batch, and runs it with EXPLAIN (ANALYZE, BUFFERS, WAL) on a fresh
// database of the external server (then once more for real, timing 20 repetitions on new ids).
//   node bench/flush-explain.js [--workload=w1] [--batch=10] [--reps=20]
// (imports buildFlushStatement from libs/persistence/dist: the exact statement of the current build)
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Engine, NodeCatalog } from '@anchorflow/engine';
import { MemoryWorkflowSource } from '@anchorflow/engine/testing';
import { openDatabase } from '@anchorflow/persistence';
import { InProcessTransport } from '@anchorflow/transport';
import corePlugin from '@anchorflow/plugin-core';
import { buildFlushStatement } from '../libs/persistence/dist/adapters/pg-execution-store.adapter.js';
import { createExternalDatabase } from './targets.js';
import { BODY, WORKFLOWS } from './workflows.js';

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const workload = args.workload ?? 'w1';
const batch = Number(args.batch ?? 10);
const reps = Number(args.reps ?? 20);

const catalog = new NodeCatalog();
for (const n of corePlugin.nodes) catalog.register(n, corePlugin.name);

/** captures every append per execution, as the PgExecutionStore would have buffered it */
function capturingStore() {
  const byId = new Map();
  return {
    byId,
    append(events, view) {
      const id = events[0]?.executionId ?? view().id;
      let e = byId.get(id);
      if (!e) byId.set(id, (e = { executionId: id, events: [], view, firstAppend: byId.size + 1 }));
      e.events.push(...events);
      e.view = view;
    },
    durable: () => Promise.resolve(), events: async () => [], get: async () => undefined,
    unfinished: async () => [], dueWakeUps: async () => [], findResumeToken: async () => undefined, findByDedupeKey: async () => undefined,
  };
}

async function capture(n) {
  const store = capturingStore();
  const engine = new Engine({ store, transport: new InProcessTransport(catalog), catalog, workflows: new MemoryWorkflowSource() });
  const def = WORKFLOWS[workload].make(`bench/${workload}`);
  const workflowId = randomUUID();
  for (let i = 0; i < n; i++) {
    const { executionId } = await engine.start({ workflowId, version: 1, definition: def, input: { ...BODY, id: i }, triggerNodeId: 'hook', awaitDurable: false });
    await engine.whenFinished(executionId, 10_000);
  }
  return [...store.byId.values()];
}

const ext = await createExternalDatabase(args['pg-admin-url'] ?? 'postgres://postgres@127.0.0.1:5432/postgres');
const dataDir = mkdtempSync(join(os.tmpdir(), 'af-bench-explain-'));
const db = await openDatabase({ databaseUrl: ext.url, dataDir });
try {
  const entries = await capture(batch);
  const build = (list) => buildFlushStatement(list);
  const st = build(entries);
  const bytes = st.values.reduce((a, v) => a + Buffer.byteLength(String(v)), 0);
  console.log(`# one flush of ${batch} ${workload} executions: ${st.eventCount} events, ${bytes} bytes of JSON parameters (${Math.round(bytes / batch)} per execution)\n`);
  const plan = await ext.client.query({ text: `EXPLAIN (ANALYZE, BUFFERS, WAL, TIMING) ${st.text}`, values: st.values });
  console.log(plan.rows.map((r) => r['QUERY PLAN']).join('\n'));
  // timing on fresh ids, as the store sends it (same connection, committed each time)
  const times = [];
  for (let r = 0; r < reps; r++) {
    const fresh = (await capture(batch)).map((e) => e);
    const s = build(fresh);
    const t0 = performance.now();
    await ext.client.query({ text: s.text, values: s.values });
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const { rows: [sz] } = await ext.client.query(`SELECT
      (SELECT avg(pg_column_size(e.*))::int FROM execution e) AS execution_row, (SELECT avg(pg_column_size(v.*))::int FROM execution_event v) AS event_row,
      (SELECT count(*)::int FROM execution_event) AS event_rows, (SELECT count(*)::int FROM execution) AS executions`);
  console.log(`\n# rows: ${sz.executions} executions (avg ${sz.execution_row} bytes), ${sz.event_rows} event rows (avg ${sz.event_row} bytes)`);
  console.log(`# ${reps} committed flushes of ${batch} executions: median ${times[times.length >> 1].toFixed(2)} ms, min ${times[0].toFixed(2)} ms → ${((times[times.length >> 1] * 1000) / batch).toFixed(0)} µs per execution (wall, including commit)`);
} finally {
  await db.close();
  await ext.drop();
  rmSync(dataDir, { recursive: true, force: true });
}
