// The two benchmark workflows, shaped so that their responses are byte-for-byte the shapes of the peers'
// benchmark (../shared/bench-peers: baseline-server.js, verify.js):
//   W1: webhook → 10 × core.set (f1..f10 = 1..10) → response = body + f1..f10
//   W2: webhook → core.set {fanout: true} → 8 branches k = 0..7 of 3 × core.set (bk_1, bk_2, bk_3 = k)
//       → core.merge {mode: 'array'} → response = array of 8 objects (body + fanout + bk_1..bk_3)
// W1 is the same graph as test/fixtures/w1.workflow.json (run.js checks it). W2 is generated here because
// the fixture's branches all write the same keys (branch/step2/step3), so its response could not be
// checked with the peers' rule "each of the 8 objects carries its own bk_1..bk_3 = k".

export const BODY = { id: 12345, name: 'bench', tags: ['a', 'b', 'c'], nested: { x: 1, y: 'two' } };

const hook = (path) => ({ id: 'hook', type: 'core.trigger.webhook', params: { path, method: 'POST', respond: 'lastNode', publicOutput: true, include: 'body' } });

export function w1(path = 'bench/w1') {
  const nodes = [hook(path)];
  const edges = [];
  for (let i = 1; i <= 10; i++) {
    nodes.push({ id: `s${i}`, type: 'core.set', params: { fields: { [`f${i}`]: i } } });
    edges.push({ from: i === 1 ? 'hook' : `s${i - 1}`, to: `s${i}` });
  }
  return { name: 'W1: webhook → 10 × core.set → response', nodes, edges };
}

export function w2(path = 'bench/w2') {
  const nodes = [hook(path), { id: 'fan', type: 'core.set', params: { fields: { fanout: true } } }];
  const edges = [{ from: 'hook', to: 'fan' }];
  for (let k = 0; k < 8; k++) {
    for (let s = 1; s <= 3; s++) {
      nodes.push({ id: `b${k}_${s}`, type: 'core.set', params: { fields: { [`b${k}_${s}`]: k } } });
      edges.push({ from: s === 1 ? 'fan' : `b${k}_${s - 1}`, to: `b${k}_${s}` });
    }
    edges.push({ from: `b${k}_3`, to: 'merge' });
  }
  nodes.push({ id: 'merge', type: 'core.merge', params: { mode: 'array' } });
  return { name: 'W2: webhook → fan-out 8 branches × 3 core.set → core.merge (array) → response', nodes, edges };
}

export const WORKFLOWS = { w1: { make: w1, nodes: 11 }, w2: { make: w2, nodes: 27 } };

/** The peers' correctness rule (verify.js) for one response to a request whose body had this id. */
export function checkResponse(kind, status, json, id) {
  if (status !== 200) return `status ${status}`;
  if (kind === 'w1') {
    if (!json || json.id !== id) return `id ${json?.id} != ${id}`;
    for (let f = 1; f <= 10; f++) if (json[`f${f}`] !== f) return `f${f} missing`;
    return undefined;
  }
  if (!Array.isArray(json) || json.length !== 8) return 'not an array of 8';
  const ks = new Set();
  for (const o of json) {
    if (o?.id !== id || o.fanout !== true) return `branch object of another request or without fanout (${o?.id})`;
    for (let k = 0; k < 8; k++) if (o[`b${k}_1`] === k && o[`b${k}_2`] === k && o[`b${k}_3`] === k) ks.add(k);
  }
  return ks.size === 8 ? undefined : `branches seen: ${[...ks].join(',')}`;
}
