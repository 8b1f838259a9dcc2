// What a V8 heap snapshot holds, by constructor/type: count and self size, largest first (issue 18: what
// the daemon keeps after starting 100,000 waiting executions; snapshots from `bench/scale.mjs --heap-snapshot`).
// --largest=N: also the N largest single objects, what retains each, and three levels further up (how the
// per-execution Maps of issue 18 were found: a Map's hash table is its largest part).
//   node bench/heap-top.mjs <file.heapsnapshot> [--top=30] [--largest=0]
import { readFileSync } from 'node:fs';

const file = process.argv[2];
const opt = (name, dflt) => Number(new RegExp(`--${name}=(\\d+)`).exec(process.argv.join(' '))?.[1] ?? dflt);
const top = opt('top', 30);
const largest = opt('largest', 0);
const snap = JSON.parse(readFileSync(file, 'utf8'));
const meta = snap.snapshot.meta;
const F = meta.node_fields.length;
const E = meta.edge_fields.length;
const [types] = meta.node_types;
const [edgeTypes] = meta.edge_types;
const iType = meta.node_fields.indexOf('type');
const iName = meta.node_fields.indexOf('name');
const iSize = meta.node_fields.indexOf('self_size');
const iEdges = meta.node_fields.indexOf('edge_count');
const eType = meta.edge_fields.indexOf('type');
const eName = meta.edge_fields.indexOf('name_or_index');
const eTo = meta.edge_fields.indexOf('to_node');
const { nodes, edges, strings } = snap;
const count = nodes.length / F;
const by = new Map();
let total = 0;
for (let i = 0; i < nodes.length; i += F) {
  const type = types[nodes[i + iType]];
  const size = nodes[i + iSize];
  total += size;
  const key = type === 'object' || type === 'closure' ? `${type} ${strings[nodes[i + iName]]}` : type;
  const e = by.get(key) ?? { count: 0, bytes: 0 };
  e.count++;
  e.bytes += size;
  by.set(key, e);
}
const rows = [...by].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, top);
console.log(`${file}: ${count} nodes, ${(total / 2 ** 20).toFixed(1)} MiB self size in all`);
for (const [k, { count: c, bytes }] of rows) console.log(`${(bytes / 2 ** 20).toFixed(2).padStart(9)} MiB ${String(c).padStart(9)}  ${k.slice(0, 100)}`);

if (largest > 0) {
  const name = (n) => `${types[nodes[n * F + iType]]} ${strings[nodes[n * F + iName]].slice(0, 60).replace(/\s+/g, ' ')}`;
  const edgeName = (e) => (['element', 'hidden'].includes(edgeTypes[edges[e + eType]]) ? `[${edges[e + eName]}]` : `.${strings[edges[e + eName]]}`);
  const firstEdge = new Uint32Array(count + 1);
  for (let n = 0, e = 0; n < count; n++) {
    firstEdge[n] = e;
    e += nodes[n * F + iEdges] * E;
  }
  firstEdge[count] = edges.length;
  /** who points at these nodes: Map(target → [[retainer, edge label]]), weak edges left out */
  const retainersOf = (targets) => {
    const out = new Map();
    for (let n = 0; n < count; n++) {
      for (let e = firstEdge[n]; e < firstEdge[n + 1]; e += E) {
        const to = edges[e + eTo] / F;
        if (!targets.has(to) || edgeTypes[edges[e + eType]] === 'weak') continue;
        if (!out.has(to)) out.set(to, []);
        out.get(to).push([n, edgeName(e)]);
      }
    }
    return out;
  };
  const order = Array.from({ length: count }, (_, n) => n).sort((a, b) => nodes[b * F + iSize] - nodes[a * F + iSize]).slice(0, largest);
  let level = new Set(order);
  console.log(`\nthe ${largest} largest objects, each with what retains it (up to 4 levels, at most 4 retainers each):`);
  const levels = [];
  for (let depth = 0; depth < 4 && level.size; depth++) {
    const r = retainersOf(level);
    levels.push(r);
    level = new Set([...r.values()].flatMap((xs) => xs.slice(0, 4).map(([n]) => n)));
  }
  const show = (n, depth, indent) => {
    if (depth >= levels.length) return;
    for (const [r, label] of (levels[depth].get(n) ?? []).slice(0, 4)) {
      console.log(`${indent}<- ${name(r)} ${label}`);
      show(r, depth + 1, `${indent}   `);
    }
  };
  for (const n of order) {
    console.log(`${(nodes[n * F + iSize] / 2 ** 20).toFixed(2)} MiB ${name(n)}`);
    show(n, 0, '   ');
  }
}
