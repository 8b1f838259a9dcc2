// What a V8 heap snapshot holds, by constructor/type: count and self size, largest first (issue 18: what
// the daemon keeps after starting 100,000 waiting executions; snapshots from `bench/scale.mjs --heap-snapshot`).
//   node bench/heap-top.mjs <file.heapsnapshot> [--top=30]
import { readFileSync } from 'node:fs';

const file = process.argv[2];
const top = Number(/--top=(\d+)/.exec(process.argv.join(' '))?.[1] ?? 30);
const snap = JSON.parse(readFileSync(file, 'utf8'));
const { node_fields: fields, node_types: [types] } = snap.snapshot.meta;
const F = fields.length;
const iType = fields.indexOf('type');
const iName = fields.indexOf('name');
const iSize = fields.indexOf('self_size');
const { nodes, strings } = snap;
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
console.log(`${file}: ${nodes.length / F} nodes, ${(total / 2 ** 20).toFixed(1)} MiB self size in all`);
for (const [k, { count, bytes }] of rows) console.log(`${(bytes / 2 ** 20).toFixed(2).padStart(9)} MiB ${String(count).padStart(9)}  ${k.slice(0, 100)}`);
