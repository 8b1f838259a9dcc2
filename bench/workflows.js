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

/**
 * The same two workflows for Node-RED (one flow file, two tabs), node for node what the peers' benchmark
 * generated (../shared/bench-peers/gen-flows.js → flows/node-red-flows.json; run.js checks they are equal
 * when that file is present): `http in` → 10 `change` nodes → `http response`, and `http in` → fan-out
 * `change` wired to 8 branches of 3 `change` nodes → `join` (automatic, keyed on msg.parts so that
 * concurrent requests are not mixed) → `http response`.
 */
export function nodeRedFlows() {
  const nr = [];
  const change = (id, z, name, rules, x, y, wires) => ({ id, type: 'change', z, name, rules, action: '', property: '', from: '', to: '', reg: false, x, y, wires });
  {
    const z = 'tab_w1';
    nr.push({ id: z, type: 'tab', label: 'W1 webhook + 10 change', disabled: false, info: '' });
    const ids = Array.from({ length: 10 }, (_, i) => `w1_c${i + 1}`);
    nr.push({ id: 'w1_in', type: 'http in', z, name: 'POST /w1', url: '/w1', method: 'post', upload: false, swaggerDoc: '', x: 100, y: 100, wires: [[ids[0]]] });
    ids.forEach((id, i) => nr.push(change(id, z, `f${i + 1}`, [{ t: 'set', p: `payload.f${i + 1}`, pt: 'msg', to: String(i + 1), tot: 'num' }], 250 + i * 120, 100, [[ids[i + 1] || 'w1_out']])));
    nr.push({ id: 'w1_out', type: 'http response', z, name: 'respond', statusCode: '', headers: {}, x: 1600, y: 100, wires: [] });
  }
  {
    const z = 'tab_w2';
    nr.push({ id: z, type: 'tab', label: 'W2 fan-out 8x3 + join', disabled: false, info: '' });
    const firsts = Array.from({ length: 8 }, (_, k) => `w2_b${k}_1`);
    nr.push({ id: 'w2_in', type: 'http in', z, name: 'POST /w2', url: '/w2', method: 'post', upload: false, swaggerDoc: '', x: 100, y: 300, wires: [['w2_fan']] });
    nr.push(change('w2_fan', z, 'fanout', [
      { t: 'set', p: 'payload.fanout', pt: 'msg', to: 'true', tot: 'bool' },
      { t: 'set', p: 'parts.id', pt: 'msg', to: '_msgid', tot: 'msg' },
      { t: 'set', p: 'parts.count', pt: 'msg', to: '8', tot: 'num' },
      { t: 'set', p: 'parts.type', pt: 'msg', to: 'array', tot: 'str' },
    ], 250, 300, [firsts]));
    for (let k = 0; k < 8; k++) {
      for (let j = 1; j <= 3; j++) {
        const rules = [{ t: 'set', p: `payload.b${k}_${j}`, pt: 'msg', to: String(k), tot: 'num' }];
        if (j === 1) rules.push({ t: 'set', p: 'parts.index', pt: 'msg', to: String(k), tot: 'num' });
        nr.push(change(`w2_b${k}_${j}`, z, `b${k}_${j}`, rules, 300 + j * 150, 200 + k * 40, [[j < 3 ? `w2_b${k}_${j + 1}` : 'w2_join']]));
      }
    }
    nr.push({ id: 'w2_join', type: 'join', z, name: 'merge', mode: 'auto', build: 'array', property: 'payload', propertyType: 'msg',
      key: 'topic', joiner: '\\n', joinerType: 'str', accumulate: false, timeout: '', count: '', reduceRight: false,
      reduceExp: '', reduceInit: '', reduceInitType: '', reduceFixup: '', x: 1000, y: 300, wires: [['w2_out']] });
    nr.push({ id: 'w2_out', type: 'http response', z, name: 'respond', statusCode: '', headers: {}, x: 1150, y: 300, wires: [] });
  }
  return nr;
}
