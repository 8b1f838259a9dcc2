// Engine-only benchmarks (no database, no HTTP): per-node overhead on a 1,000-node chain, and
// validate + topological sort of a 10,000-node graph. Run: node bench/engine-overhead.mjs
import { Engine, NodeCatalog } from '@anchorflow/engine';
import { MemoryExecutionStore, MemoryWorkflowSource } from '@anchorflow/engine/testing';
import { InProcessTransport } from '@anchorflow/transport';
import corePlugin from '@anchorflow/plugin-core';

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const CHAIN = Number(args.chain ?? 1000);
const RUNS = Number(args.runs ?? 30);
const BIG = Number(args.big ?? 10_000);

const catalog = new NodeCatalog();
for (const n of corePlugin.nodes) catalog.register(n, corePlugin.name);

function chain(n, type = 'core.noop', params = {}) {
  const nodes = [{ id: 'n0', type: 'core.trigger.manual', params: {} }];
  for (let i = 1; i < n; i++) nodes.push({ id: `n${i}`, type, params });
  const edges = nodes.slice(1).map((x, i) => ({ from: nodes[i].id, to: x.id }));
  return { name: `chain-${n}`, nodes, edges };
}

/** A store that keeps only final views: measures the scheduler itself. */
const finals = new Map();
const nullStore = {
  append(events, view) {
    for (const e of events) if (e.type === 'execution.finished') finals.set(e.executionId, view());
  },
  durable: () => Promise.resolve(), events: async () => [], get: async (id) => { const v = finals.get(id); finals.delete(id); return v; },
  unfinished: async () => [], dueWakeUps: async () => [], findResumeToken: async () => undefined, findByDedupeKey: async () => undefined,
};

async function overhead(label, store, type, params) {
  const workflows = new MemoryWorkflowSource();
  const engine = new Engine({ store, transport: new InProcessTransport(catalog), catalog, workflows, options: { maxNodes: 20_000 } });
  const def = chain(CHAIN, type, params);
  workflows.put('w', 1, def);
  const samples = [];
  for (let r = 0; r < RUNS + 5; r++) {
    const t0 = process.hrtime.bigint();
    const { executionId } = await engine.start({ workflowId: 'w', version: 1, definition: def, input: { a: 1 }, awaitDurable: false });
    const v = await engine.whenFinished(executionId, 60_000);
    const dt = Number(process.hrtime.bigint() - t0) / 1e3;
    if (v?.status !== 'succeeded') throw new Error(`run failed: ${JSON.stringify(v?.error)}`);
    if (r >= 5) samples.push(dt / CHAIN);
  }
  samples.sort((a, b) => a - b);
  return { label, nodes: CHAIN, runs: RUNS, usPerNodeMedian: +samples[samples.length >> 1].toFixed(2), usPerNodeMin: +samples[0].toFixed(2) };
}

function validateBig() {
  const engine = new Engine({ store: nullStore, transport: new InProcessTransport(catalog), catalog, workflows: new MemoryWorkflowSource(), options: { maxNodes: 20_000 } });
  // a layered DAG: 100 layers × 100 nodes, each node wired to 2 nodes of the previous layer
  const nodes = [{ id: 't', type: 'core.trigger.manual', params: {} }];
  const edges = [];
  const W = 100;
  for (let i = 0; i < BIG - 1; i++) {
    const id = `n${i}`;
    nodes.push({ id, type: 'core.set', params: { fields: { [`f${i % 7}`]: i } } });
    const layer = Math.floor(i / W);
    if (layer === 0) edges.push({ from: 't', to: id });
    else {
      edges.push({ from: `n${i - W}`, to: id });
      edges.push({ from: `n${(layer - 1) * W + ((i + 1) % W)}`, to: id });
    }
  }
  const def = { name: 'big', nodes, edges };
  const samples = [];
  for (let r = 0; r < 12; r++) {
    const t0 = process.hrtime.bigint();
    const problems = engine.validate(def);
    const dt = Number(process.hrtime.bigint() - t0) / 1e6;
    if (problems.length) throw new Error(JSON.stringify(problems.slice(0, 3)));
    if (r >= 2) samples.push(dt);
  }
  samples.sort((a, b) => a - b);
  return { label: 'validate+sort', nodes: nodes.length, edges: edges.length, msMedian: +samples[samples.length >> 1].toFixed(1), msMin: +samples[0].toFixed(1) };
}

const results = [];
results.push(await overhead('engine overhead, core.noop chain, null store', nullStore, 'core.noop', {}));
results.push(await overhead('engine overhead, core.set chain, null store', nullStore, 'core.set', { fields: { x: 1 } }));
results.push(await overhead('engine overhead, core.noop chain, in-memory group-commit store', new MemoryExecutionStore(), 'core.noop', {}));
results.push(validateBig());
console.log(JSON.stringify({ bench: 'engine', node: process.version, results }, null, 1));
