// Validate + sort of the 10,000-node graph of engine-overhead.mjs, ITER times (default 20): CPU and wall ms per
// validation. Under valgrind (callgrind) for instruction counts on a loaded machine:
//   ITER=2 valgrind --tool=callgrind --callgrind-out-file=/dev/null node bench/validate-cost.mjs   (and ITER=8; (Ir8 − Ir2) ÷ 6)
import { Engine, NodeCatalog } from '@anchorflow/engine';
import { MemoryWorkflowSource } from '@anchorflow/engine/testing';
import { InProcessTransport } from '@anchorflow/transport';
import corePlugin from '@anchorflow/plugin-core';
const catalog = new NodeCatalog();
for (const n of corePlugin.nodes) catalog.register(n, corePlugin.name);
const nullStore = {};
const engine = new Engine({ store: nullStore, transport: new InProcessTransport(catalog), catalog, workflows: new MemoryWorkflowSource(), options: { maxNodes: 20_000 } });
const nodes = [{ id: 't', type: 'core.trigger.manual', params: {} }];
const edges = [];
const W = 100;
for (let i = 0; i < 9999; i++) {
  const id = `n${i}`;
  nodes.push({ id, type: 'core.set', params: { fields: { [`f${i % 7}`]: i } } });
  const layer = Math.floor(i / W);
  if (layer === 0) edges.push({ from: 't', to: id });
  else { edges.push({ from: `n${i - W}`, to: id }); edges.push({ from: `n${(layer - 1) * W + ((i + 1) % W)}`, to: id }); }
}
const def = { name: 'big', nodes, edges };
const cpu = [];
const wall = [];
const ITER = Number(process.env.ITER ?? 20);
for (let r = 0; r < ITER; r++) {
  const c0 = process.cpuUsage(); const t0 = performance.now();
  const p = engine.validate(def);
  const t1 = performance.now(); const c1 = process.cpuUsage(c0);
  if (p.length) throw new Error(JSON.stringify(p[0]));
  if (r >= 4) { cpu.push((c1.user + c1.system) / 1000); wall.push(t1 - t0); }
}
if (ITER < 5) process.exit(0);
cpu.sort((a, b) => a - b); wall.sort((a, b) => a - b);
console.log(`cpu ms median ${cpu[cpu.length >> 1].toFixed(1)} min ${cpu[0].toFixed(1)}; wall median ${wall[wall.length >> 1].toFixed(1)} min ${wall[0].toFixed(1)}`);
