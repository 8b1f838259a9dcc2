// Execution receipts benchmark (issue 13): `npm run build && node bench/receipts.mjs` (~2 min; figures in BENCHMARKS.md).
//   1. the hash chain's cost on W1: the engine drives W1 in this process exactly as the webhook handler does
//      (bench/layers.js), closed loop at c=CONC, on the real PgExecutionStore of a fresh external PostgreSQL
//      database, with the chain off (historyChain: false) and on, interleaved REPS times in the same run:
//      executions/s and this process's CPU µs per execution, medians and the on/off ratio; plus the
//      serialisation alone (buildFlushStatement over 1,000 W1 histories, no database), which the machine's
//      load disturbs least;
//   2. receipts per transaction: RECEIPTS finished W1 executions from (1) handed to the chain-anchor batcher
//      the daemon's way (PgReceiptQueue: history ends read, one INSERT), anchored on anvil by the real
//      AnchorService on the same database's plugin state (batchSize 10,000): transactions used, seconds;
//   3. receipt verify time: export (stored history with hashes) + chain recomputed + statement + leaf → root.
// Knobs (env): REPS (5) SECONDS (5) CONC (10) RECEIPTS (10000) PG_ADMIN_URL (postgres://postgres@127.0.0.1:5432/postgres)
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Engine, NodeCatalog, receiptBodyOf, receiptLeaf, verifyHistory } from '@anchorflow/engine';
import { MemoryWorkflowSource } from '@anchorflow/engine/testing';
import { openDatabase, PgExecutionReader, PgExecutionStore, PgReceiptQueue, pluginStateFor } from '@anchorflow/persistence';
import { InProcessTransport } from '@anchorflow/transport';
import corePlugin from '@anchorflow/plugin-core';
import { AnchorService, EvmChain, verifyOffline, parseProof } from '../plugins/chain-anchor/dist/index.js';
import { buildFlushStatement } from '../libs/persistence/dist/adapters/pg-execution-store.adapter.js';
import { startAnvil, ANVIL_KEY_0 } from './support-anvil.mjs';
import { createExternalDatabase } from './targets.js';
import { BODY, WORKFLOWS, checkResponse } from './workflows.js';

const E = process.env;
const REPS = Number(E.REPS ?? 5);
const SECONDS = Number(E.SECONDS ?? 5);
const CONC = Number(E.CONC ?? 10);
const RECEIPTS = Number(E.RECEIPTS ?? 10_000);
const adminUrl = E.PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const PLUGIN = '@anchorflow/plugin-chain-anchor';
const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const out = [];
const line = (s) => { out.push(s); console.log(s); };

const catalog = new NodeCatalog();
for (const n of corePlugin.nodes) catalog.register(n, corePlugin.name);
const def = WORKFLOWS.w1.make('bench/w1');
const workflowId = '00000000-0000-4000-8000-000000000001';

async function closedLoop(engine, secs) {
  let done = 0, bad = 0, next = 1;
  const deadline = performance.now() + secs * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const id = next++;
      const { executionId } = await engine.start({ workflowId, version: 1, definition: def, input: { ...BODY, id }, triggerNodeId: 'hook', awaitDurable: false });
      const view = await engine.whenFinished(executionId, 30_000);
      if (checkResponse('w1', view?.status === 'succeeded' ? 200 : 500, view?.status === 'succeeded' ? Object.values(view.output ?? {})[0] : undefined, id)) bad++;
      done++;
    }
  };
  const t0 = performance.now(), c0 = cpuMs();
  await Promise.all(Array.from({ length: CONC }, worker));
  const s = (performance.now() - t0) / 1000;
  return { eps: done / s, cpuUs: ((cpuMs() - c0) * 1000) / done, done, bad };
}

const ext = await createExternalDatabase(adminUrl);
const dataDir = mkdtempSync(join(os.tmpdir(), 'af-bench-receipts-'));
const db = await openDatabase({ databaseUrl: ext.url, dataDir });
try {
  // 1. W1 with and without the chain, interleaved
  const runs = { off: [], on: [] };
  for (let r = 0; r < REPS; r++) {
    for (const mode of r % 2 ? ['on', 'off'] : ['off', 'on']) {
      const store = new PgExecutionStore(db, { historyChain: mode === 'on' });
      const engine = new Engine({ store, transport: new InProcessTransport(catalog), catalog, workflows: new MemoryWorkflowSource() });
      await closedLoop(engine, 1); // warm-up
      const res = await closedLoop(engine, SECONDS);
      if (res.bad) throw new Error(`${res.bad} wrong W1 answers`);
      runs[mode].push(res);
      await store.close();
      console.error(`rep ${r + 1} ${mode}: ${res.eps.toFixed(0)} exec/s, ${res.cpuUs.toFixed(0)} µs CPU/exec (load ${os.loadavg()[0].toFixed(2)})`);
    }
  }
  const eps = (m) => median(runs[m].map((x) => x.eps));
  const cpu = (m) => median(runs[m].map((x) => x.cpuUs));
  line(`| W1, engine + PgExecutionStore in process, c=${CONC}, ${REPS}× ${SECONDS} s interleaved (median) | chain off | chain on | on / off |`);
  line('|---|---|---|---|');
  line(`| executions/s | ${eps('off').toFixed(0)} | ${eps('on').toFixed(0)} | ${(eps('on') / eps('off')).toFixed(3)} |`);
  line(`| process CPU µs per execution | ${cpu('off').toFixed(0)} | ${cpu('on').toFixed(0)} | ${(cpu('on') / cpu('off')).toFixed(3)} |`);

  // the serialisation alone: 1,000 W1 histories as the group commit sees them
  const recorded = new Map();
  const recorder = {
    append(events, view) { for (const e of events) { let l = recorded.get(e.executionId); if (!l) recorded.set(e.executionId, (l = { events: [], view })); l.events.push(e); l.view = view; } },
    durable: () => Promise.resolve(), events: async () => [], get: async (id) => recorded.get(id)?.view(),
    unfinished: async () => [], dueWakeUps: async () => [], findResumeToken: async () => undefined, findByDedupeKey: async () => undefined,
  };
  const recEngine = new Engine({ store: recorder, transport: new InProcessTransport(catalog), catalog, workflows: new MemoryWorkflowSource() });
  for (let i = 0; i < 1000; i++) {
    const { executionId } = await recEngine.start({ workflowId, version: 1, definition: def, input: { ...BODY, id: i }, triggerNodeId: 'hook', awaitDurable: false });
    await recEngine.whenFinished(executionId, 30_000);
  }
  const entries = () => [...recorded].map(([executionId, l], k) => ({ executionId, events: l.events, view: l.view, firstAppend: k }));
  const timeBuild = (heads) => {
    const samples = [];
    for (let k = 0; k < 15; k++) {
      const batch = entries();
      const c0 = cpuMs();
      buildFlushStatement(batch, () => {}, 'bench', 15_000, heads ? new Map() : undefined);
      samples.push(cpuMs() - c0);
    }
    return median(samples.slice(5)) * 1000 / recorded.size;
  };
  const eventsPer = [...recorded.values()][0].events.length;
  const plain = timeBuild(false), chained = timeBuild(true);
  line('');
  line(`| serialising one W1 history (${eventsPer} events) for the group commit, no database | chain off | chain on | added |`);
  line('|---|---|---|---|');
  line(`| CPU µs per execution (median of 10 × 1,000) | ${plain.toFixed(1)} | ${chained.toFixed(1)} | ${(chained - plain).toFixed(1)} µs (${((chained - plain) / eventsPer).toFixed(2)} µs/event) |`);

  // 2. receipts per transaction
  const { rows } = await db.pool.query(`SELECT e.id FROM execution e WHERE e.status = 'succeeded' AND EXISTS (SELECT 1 FROM execution_event v WHERE v.execution_id = e.id AND v.seq = 1 AND v.events LIKE '%"hash":%') LIMIT $1`, [RECEIPTS]);
  if (rows.length < RECEIPTS) throw new Error(`only ${rows.length} chained executions to take receipts of; raise SECONDS`);
  const ids = rows.map((r) => r.id);
  const queue = new PgReceiptQueue(db);
  const t0 = performance.now();
  let queued = 0;
  for (let i = 0; i < ids.length; i += 5000) {
    const ends = await queue.historyEnds(ids.slice(i, i + 5000));
    const items = [...ends].map(([id, { first, last }]) => {
      const body = receiptBodyOf(id, [first, last]);
      return { key: `pending/local/receipt:${id}`, value: { leaf: receiptLeaf(body), token: '', enqueuedAt: Date.now(), deliverTo: `receipt/${id}` }, unlessKey: `receipt/${id}` };
    });
    queued += await queue.enqueue(PLUGIN, items);
  }
  const handOffMs = performance.now() - t0;
  const anvil = await startAnvil(['--block-time', '1']);
  try {
    const chain = new EvmChain({ rpcUrls: [anvil.url], chainId: 31337, rpcTimeoutMs: 5000 });
    const registry = (await chain.deployRegistry(ANVIL_KEY_0, 100)).address.toLowerCase();
    const ctx = {
      config: { chains: { local: { kind: 'evm', rpcUrls: [anvil.url], chainId: 31337, registry, signer: 'k', confirmations: 1, maxWaitMs: 200, pollMs: 50 } } },
      logger: { debug() {}, info() {}, warn() {}, error() {} },
      credentials: { get: async () => ({ privateKey: ANVIL_KEY_0 }) },
      state: pluginStateFor(db, PLUGIN), signal: new AbortController().signal, now: () => Date.now(), resume: async () => false,
    };
    const service = new AnchorService(ctx);
    await service.init();
    const t1 = performance.now();
    service.start();
    for (;;) {
      const n = (await db.pool.query(`SELECT count(*)::int AS n FROM plugin_state WHERE plugin = $1 AND key LIKE 'receipt/%'`, [PLUGIN])).rows[0].n;
      if (n >= queued) break;
      if (performance.now() - t1 > 180_000) throw new Error(`only ${n}/${queued} receipts after 180 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const anchorS = (performance.now() - t1) / 1000;
    await service.stop();
    chain.destroy();
    const txs = (await db.pool.query(`SELECT count(DISTINCT value->'proof'->'anchor'->>'txHash')::int AS n FROM plugin_state WHERE plugin = $1 AND key LIKE 'receipt/%'`, [PLUGIN])).rows[0].n;
    line('');
    line('| receipts (anvil --block-time 1, batchSize 10,000, 1 confirmation) | result |');
    line('|---|---|');
    line(`| ${queued.toLocaleString('en')} finished W1 executions handed to the batcher (history ends read + one INSERT per 5,000) | ${(handOffMs / 1000).toFixed(2)} s |`);
    line(`| anchored | ${txs} transaction(s), ${Math.round(queued / txs).toLocaleString('en')} receipts per transaction, all receipts after ${anchorS.toFixed(2)} s |`);
  } finally {
    await anvil.stop();
  }

  // 3. verify time
  const reader = new PgExecutionReader(db);
  const sample = ids.slice(0, 1000);
  const proofs = new Map((await db.pool.query(`SELECT key, value FROM plugin_state WHERE plugin = $1 AND key = ANY($2::text[])`, [PLUGIN, sample.map((id) => `receipt/${id}`)])).rows.map((r) => [r.key.slice(8), r.value.proof]));
  const exports = [];
  const r0 = performance.now();
  for (const id of sample) exports.push([id, JSON.stringify({ v: 1, format: 'receipt', executionId: id, items: await reader.events(id, { hashes: true }) })]);
  const readMs = (performance.now() - r0) / sample.length;
  const c0 = cpuMs(), w0 = performance.now();
  let ok = 0;
  for (const [id, text] of exports) {
    const events = JSON.parse(text).items;
    const chainOk = verifyHistory(id, events).ok;
    const body = receiptBodyOf(id, events);
    const receipt = JSON.parse(JSON.stringify({ ...body, proof: proofs.get(id) }));
    const { proof, ...statement } = receipt;
    if (chainOk && verifyOffline(parseProof(proof), { data: statement }).every((c) => c.ok)) ok++;
  }
  const verifyUs = ((performance.now() - w0) * 1000) / sample.length, verifyCpuUs = ((cpuMs() - c0) * 1000) / sample.length;
  if (ok !== sample.length) throw new Error(`only ${ok}/${sample.length} receipts verified`);
  line('');
  line('| receipt verify (W1: history export + chain + statement + leaf → root; no chain RPC) | per receipt |');
  line('|---|---|');
  line(`| export read from PostgreSQL (GET …/events?format=receipt without HTTP) | ${(readMs * 1000).toFixed(0)} µs wall |`);
  line(`| offline verify (JSON.parse, ${eventsPer} links, statement, Merkle path) | ${verifyUs.toFixed(0)} µs wall, ${verifyCpuUs.toFixed(0)} µs CPU |`);
  line('');
  line(`machine: ${os.cpus().length} CPUs, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}; PostgreSQL ${ext.settings.version}`);
} finally {
  await db.close();
  await ext.drop();
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(0);
