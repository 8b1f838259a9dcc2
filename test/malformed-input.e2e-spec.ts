/**
 * Hostile input on every route: broken JSON, wrong types, arrays for objects, deep nesting, huge strings,
 * bodies over the limit, a 30,000-node graph, unknown node types, negative/NaN/infinite numbers, bad ids
 * in paths, bad query parameters. The daemon must answer each with a 4xx in our error shape
 * (`{error: {code, message, details}}`) — never a 5xx, never a dropped connection — and still work
 * afterwards. Cases come from a seeded PRNG (E2E_SEED to replay); counts are bounded.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Api, isErrorShape, type WorkflowJson } from './support/api.js';
import { startDaemon, type Daemon } from './support/daemon.js';
import { loadFixture } from './support/fixtures.js';
import { chain, manual, node, uid, workflow } from './support/graph.js';
import { deeplyNested, randomGarbage, randomJsonText, randomString, rng, type Rng } from './support/prng.js';
import { rawRequest } from './support/raw-http.js';

const SEED = Number(process.env.E2E_SEED ?? 20_240_601);
const RANDOM_CASES = Number(process.env.E2E_FUZZ_CASES ?? 60);

let daemon: Daemon;
let api: Api;
let workflowId: string;
let executionId: string;
let hookPath: string;

beforeAll(async () => {
  daemon = await startDaemon({ name: 'malformed' });
  api = new Api(daemon.url);
  hookPath = `e2e/fuzz-${uid()}`;
  const created = await api.createWorkflow(workflow(`fuzz target ${uid()}`, [
    node('hook', 'core.trigger.webhook', { path: hookPath, method: 'POST', respond: 'immediately' }), manual(), node('n', 'core.noop'),
  ], [...chain('hook', 'n'), ...chain('start', 'n')]));
  workflowId = created.id;
  await api.activate(workflowId);
  executionId = (await api.run(workflowId, { ok: true })).id;
}, 120_000);

afterAll(async () => {
  await daemon?.stop();
});

/**
 * `reject`: must be a 4xx in our shape. `any`: may succeed, but a failure must be a 4xx in our shape.
 * `reject-raw`: must be a 4xx, which Node's HTTP parser may send itself before the app sees the request.
 */
type Expect = 'reject' | 'any' | 'reject-raw';

interface Case {
  method: string;
  path: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
  expect: Expect;
  note: string;
}

interface Violation {
  case: string;
  status: number | string;
  response: string;
}

function excerpt(s: string | Buffer | undefined, max = 160): string {
  if (s === undefined) return '';
  const text = typeof s === 'string' ? s : `<${s.length} bytes>`;
  return text.length > max ? `${JSON.stringify(text.slice(0, max))}…(${text.length} chars)` : JSON.stringify(text);
}

async function check(c: Case, timeoutMs = 30_000): Promise<Violation | undefined> {
  const label = `${c.note}: ${c.method} ${c.path.length > 120 ? `${c.path.slice(0, 120)}…` : c.path} ${excerpt(c.body)} (seed ${SEED})`;
  let res;
  try {
    res = await rawRequest(daemon.url, c.method, c.path, { body: c.body, headers: c.headers, timeoutMs });
  } catch (err) {
    return { case: label, status: `no answer: ${(err as Error).message}`, response: '' };
  }
  const bad = res.status >= 500
    || res.status < 200
    || (res.status >= 400 && c.expect !== 'reject-raw' && !isErrorShape(res.json))
    || (c.expect !== 'any' && (res.status < 400 || res.status >= 500));
  return bad ? { case: label, status: res.status, response: res.text.slice(0, 300) } : undefined;
}

async function checkAll(cases: Case[]): Promise<Violation[]> {
  const violations: Violation[] = [];
  for (const c of cases) {
    const v = await check(c);
    if (v) violations.push(v);
  }
  return violations;
}

async function expectAlive(): Promise<void> {
  const health = await api.get('/api/v1/health', { timeoutMs: 5000 });
  expect(health.status).toBe(200);
}

const BAD_IDS = [
  'x', '-1', '0', 'NaN', 'null', 'undefined', '__proto__', 'constructor', '%00', '%ZZ', '%25', '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  "'%20OR%201=1--", '%F0%9F%92%A5', '%E2%80%AE', 'a'.repeat(5000), '00000000-0000-0000-0000-000000000000', '..', '%20', '1e309',
];

/** a path segment from any string (lone surrogates, which encodeURIComponent refuses, become U+FFFD) */
function pathSegment(s: string): string {
  return encodeURIComponent(s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')) || 'x';
}

const validWorkflow = (): WorkflowJson => workflow(`fuzz ${uid()}`, [manual(), node('set', 'core.set', { fields: { a: 1 } })], chain('start', 'set'));

/** Mutations that make a valid workflow invalid, each on purpose. */
function invalidMutation(r: Rng): { note: string; body: string } {
  const wf = validWorkflow() as WorkflowJson & Record<string, unknown>;
  const setNode = wf.nodes[1] as Record<string, unknown>;
  const wrong = (): unknown => r.pick([null, 123, -1, true, [], [1, 2], {}, { a: 1 }, '']);
  const mutations: Array<[string, () => void]> = [
    ['name of a wrong type', () => { wf.name = r.pick([123, null, [], {}, true]) as unknown as string; }],
    ['nodes not an array', () => { (wf as Record<string, unknown>).nodes = r.pick([{}, 'nodes', 1, null, { 0: manual() }]); }],
    ['edges not an array', () => { (wf as Record<string, unknown>).edges = r.pick([{}, 'edges', 1, null]); }],
    ['node id of a wrong type', () => { setNode.id = r.pick([123, null, {}, [], true]); }],
    ['node type unknown', () => { setNode.type = r.pick(['evil.plugin', 'core.nope', '../../etc/passwd', 'CORE.SET', 'core.set ', 'x'.repeat(100_000), 'core']); }],
    ['node type of a wrong type', () => { setNode.type = r.pick([123, null, {}, ['core.set']]); }],
    ['params not an object', () => { setNode.params = r.pick(['fields', 42, [], [{ fields: {} }], true]); }],
    ['set fields of a wrong type', () => { setNode.params = { fields: r.pick(['a', 1, [1], true]) }; }],
    ['retry.maxAttempts out of range', () => { setNode.retry = { maxAttempts: r.pick([-1, 0, 1.5, 'three', -1e21]) }; }],
    ['retry of a wrong type', () => { setNode.retry = r.pick(['always', 3, [], true]); }],
    ['retry.backoffMs negative', () => { setNode.retry = { maxAttempts: 2, backoffMs: r.pick([-1, -1000, 'x']) }; }],
    ['timeoutMs invalid', () => { setNode.timeoutMs = r.pick([-5, 'soon', [], {}]); }],
    ['continueOnFail not a boolean', () => { setNode.continueOnFail = r.pick(['yes', 1, {}, [true]]); }],
    ['position invalid', () => { setNode.position = r.pick(['0,0', { x: 'a', y: 1 }, { x: 1 }, [1, 2], 7]); }],
    ['a node that is not an object', () => { wf.nodes.push(r.pick([1, 'node', null, [], true]) as never); }],
    ['an edge that is not an object', () => { wf.edges.push(r.pick([1, 'a->b', null, [], true]) as never); }],
    ['edge endpoints of a wrong type', () => { wf.edges[0] = { from: wrong(), to: wrong() } as never; }],
    ['edge to nowhere', () => { wf.edges.push({ from: 'set', to: r.pick(['ghost', '', 'SET', 'start ']) }); }],
    ['edge from an unknown port', () => { wf.edges[0] = { from: 'start', to: 'set', fromPort: r.pick(['nope', '', 'true', 'false']) }; }],
    ['core.wait with bad ms', () => { wf.nodes.push(node('w', 'core.wait', { ms: r.pick([-1, 'soon', [], {}]) })); wf.edges.push({ from: 'set', to: 'w' }); }],
    ['core.if without condition', () => { wf.nodes.push(node('i', 'core.if', r.pick([{}, { condition: 1 }, { condition: [] }]))); wf.edges.push({ from: 'set', to: 'i' }); }],
    ['core.http with a bad url or method', () => { wf.nodes.push(node('h', 'core.http', r.pick([{ method: 'GET' }, { method: 'FETCH', url: 'http://127.0.0.1:1/' }, { method: 'GET', url: 42 }, { method: 'GET', url: 'http://x/', timeoutMs: -1 }]))); wf.edges.push({ from: 'set', to: 'h' }); }],
    ['core.merge with a bad mode', () => { wf.nodes.push(node('m', 'core.merge', { mode: r.pick(['zip', '', 1]) })); wf.edges.push({ from: 'set', to: 'm' }); }],
    ['core.webhook with a bad respond', () => { wf.nodes.push(node('hk', 'core.trigger.webhook', { path: 'x', method: 'POST', respond: r.pick(['later', 1]) })); }],
    ['a cycle', () => { wf.nodes.push(node('c', 'core.noop')); wf.edges.push({ from: 'set', to: 'c' }, { from: 'c', to: 'set' }); }],
    ['a self loop', () => { wf.edges.push({ from: 'set', to: 'set' }); }],
    ['duplicate ids', () => { wf.nodes.push(node('set', 'core.noop')); }],
    ['no nodes at all', () => { wf.nodes = []; wf.edges = []; }],
    ['an invalid expression', () => { setNode.params = { fields: { a: r.pick(['=$$$(', '=)', '=[1,2', '={"a":}']) } }; }],
  ];
  const [note, mutate] = r.pick(mutations);
  mutate();
  return { note: `invalid workflow (${note})`, body: JSON.stringify(wf) };
}

describe('malformed input gets a 4xx in our error shape, never a 5xx', () => {
  it('broken JSON, wrong content types and non-object bodies on every route that takes a body', async () => {
    const r = rng(SEED);
    // objectRequired: a JSON body that is not an object is refused; emptyOk: no body (or one the JSON
    // parser ignores, like text/plain) is a valid request there
    const bodyRoutes: Array<{ method: string; path: () => string; objectRequired: boolean; emptyOk: boolean }> = [
      { method: 'POST', path: () => '/api/v1/workflows', objectRequired: true, emptyOk: false },
      { method: 'PUT', path: () => `/api/v1/workflows/${workflowId}`, objectRequired: true, emptyOk: false },
      { method: 'POST', path: () => `/api/v1/workflows/${workflowId}/executions`, objectRequired: true, emptyOk: true },
      { method: 'POST', path: () => '/api/v1/workflows/layout', objectRequired: true, emptyOk: false },
      { method: 'POST', path: () => `/api/v1/resume/${uid()}`, objectRequired: false, emptyOk: true },
      { method: 'POST', path: () => `/hooks/${hookPath}`, objectRequired: false, emptyOk: true },
    ];
    const cases: Case[] = [];
    for (const route of bodyRoutes) {
      for (let i = 0; i < Math.ceil(RANDOM_CASES / 2); i++) cases.push({ method: route.method, path: route.path(), body: randomGarbage(r), expect: 'reject', note: `broken JSON #${i}` });
      for (const scalar of ['null', 'true', '0', '-1', '"a string"', '[]', '[1,2,3]', `[${JSON.stringify(validWorkflow())}]`]) {
        cases.push({ method: route.method, path: route.path(), body: scalar, expect: route.objectRequired ? 'reject' : 'any', note: 'not an object' });
      }
      const emptyish: Expect = route.emptyOk ? 'any' : 'reject';
      cases.push({ method: route.method, path: route.path(), body: '', expect: emptyish, note: 'empty body' });
      cases.push({ method: route.method, path: route.path(), body: JSON.stringify(validWorkflow()), headers: { 'content-type': 'text/plain' }, expect: emptyish, note: 'JSON sent as text/plain' });
      cases.push({ method: route.method, path: route.path(), body: 'name=x&nodes=1', headers: { 'content-type': 'application/x-www-form-urlencoded' }, expect: emptyish, note: 'form body' });
      cases.push({ method: route.method, path: route.path(), body: '--b\r\nContent-Disposition: form-data; name="x"\r\n\r\n1\r\n--b--', headers: { 'content-type': 'multipart/form-data; boundary=b' }, expect: emptyish, note: 'multipart body' });
      cases.push({ method: route.method, path: route.path(), body: Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x00, 0x7d]), headers: { 'content-type': 'application/json; charset=utf-16' }, expect: 'reject', note: 'unsupported charset' });
    }
    const violations = await checkAll(cases);
    expect(violations).toEqual([]);
    await expectAlive();
  }, 90_000);

  it('random JSON values and invalid workflows on the workflow routes', async () => {
    const r = rng(SEED + 1);
    const cases: Case[] = [];
    for (let i = 0; i < RANDOM_CASES; i++) {
      const text = randomJsonText(r);
      let parsed: unknown;
      try { parsed = JSON.parse(text); } catch { parsed = undefined; }
      // a random object could only be valid if it had nodes and edges arrays
      const couldBeValid = !!parsed && typeof parsed === 'object' && Array.isArray((parsed as Record<string, unknown>).nodes) && Array.isArray((parsed as Record<string, unknown>).edges);
      cases.push({ method: 'POST', path: '/api/v1/workflows', body: text, expect: couldBeValid ? 'any' : 'reject', note: `random JSON #${i}` });
      cases.push({ method: 'POST', path: '/api/v1/workflows/layout', body: text, expect: couldBeValid ? 'any' : 'reject', note: `random JSON #${i}` });
    }
    for (let i = 0; i < RANDOM_CASES * 2; i++) {
      const { note, body } = invalidMutation(r);
      cases.push({ method: 'POST', path: '/api/v1/workflows', body, expect: 'reject', note: `${note} #${i}` });
      if (i % 3 === 0) {
        const asPut = JSON.stringify({ ...JSON.parse(body), version: 1 });
        cases.push({ method: 'PUT', path: `/api/v1/workflows/${workflowId}`, body: asPut, expect: 'reject', note: `PUT ${note} #${i}` });
      }
    }
    // as JSON text, so that 1e309 (Infinity once parsed) goes out as written
    for (const version of ['-1', '0', '1.5', '"one"', 'null', '[]', '{}', '1e309', '99999']) {
      const text = `${JSON.stringify(validWorkflow()).slice(0, -1)},"version":${version}}`;
      cases.push({ method: 'PUT', path: `/api/v1/workflows/${workflowId}`, body: text, expect: 'reject', note: `PUT with version ${version}` });
    }
    cases.push({ method: 'PUT', path: `/api/v1/workflows/${workflowId}`, body: JSON.stringify(validWorkflow()), expect: 'reject', note: 'PUT without version' });
    const violations = await checkAll(cases);
    expect(violations).toEqual([]);
    expect((await api.getWorkflow(workflowId)).version).toBe(1);
    await expectAlive();
  }, 90_000);

  it('random bodies to the executions route: accepted or refused cleanly', async () => {
    const r = rng(SEED + 2);
    const cases: Case[] = [];
    for (let i = 0; i < RANDOM_CASES; i++) {
      cases.push({ method: 'POST', path: `/api/v1/workflows/${workflowId}/executions`, body: `{"input":${randomJsonText(r)}}`, expect: 'any', note: `random input #${i}` });
      cases.push({ method: 'POST', path: `/api/v1/workflows/${workflowId}/executions`, body: randomJsonText(r), expect: 'any', note: `random body #${i}` });
      cases.push({ method: 'POST', path: `/hooks/${hookPath}`, body: randomJsonText(r), expect: 'any', note: `random webhook body #${i}` });
      cases.push({ method: 'POST', path: `/api/v1/resume/${pathSegment(randomString(r))}`, body: randomJsonText(r), expect: 'reject', note: `resume with a random token #${i}` });
    }
    const violations = await checkAll(cases);
    expect(violations).toEqual([]);
    await expectAlive();
  }, 90_000);

  it('bad ids in paths and bad query parameters', async () => {
    const cases: Case[] = [];
    const valid = JSON.stringify({ ...validWorkflow(), version: 1 });
    for (const id of BAD_IDS) {
      cases.push({ method: 'GET', path: `/api/v1/workflows/${id}`, expect: 'reject', note: 'bad workflow id' });
      cases.push({ method: 'PUT', path: `/api/v1/workflows/${id}`, body: valid, expect: 'reject', note: 'bad workflow id' });
      cases.push({ method: 'DELETE', path: `/api/v1/workflows/${id}`, expect: 'reject', note: 'bad workflow id' });
      cases.push({ method: 'POST', path: `/api/v1/workflows/${id}/activate`, expect: 'reject', note: 'bad workflow id' });
      cases.push({ method: 'POST', path: `/api/v1/workflows/${id}/deactivate`, expect: 'reject', note: 'bad workflow id' });
      cases.push({ method: 'POST', path: `/api/v1/workflows/${id}/executions`, body: '{"input":{}}', expect: 'reject', note: 'bad workflow id' });
      cases.push({ method: 'GET', path: `/api/v1/executions/${id}`, expect: 'reject', note: 'bad execution id' });
      cases.push({ method: 'GET', path: `/api/v1/executions/${id}/events`, expect: 'reject', note: 'bad execution id' });
      cases.push({ method: 'POST', path: `/api/v1/executions/${id}/cancel`, expect: 'reject', note: 'bad execution id' });
      cases.push({ method: 'POST', path: `/api/v1/resume/${id}`, body: '{}', expect: 'reject', note: 'bad resume token' });
      cases.push({ method: 'POST', path: `/hooks/${id}`, body: '{}', expect: 'reject', note: 'no such webhook' });
    }
    for (const v of ['abc', '-1', '0', '1.5', 'NaN', '1e309', '%00', '999999999']) cases.push({ method: 'GET', path: `/api/v1/workflows/${workflowId}?version=${v}`, expect: 'reject', note: `?version=${v}` });
    for (const w of ['abc', '-5', 'NaN', '1e309', '%00', '1.5']) cases.push({ method: 'POST', path: `/api/v1/workflows/${workflowId}/executions?wait=${w}`, body: '{"input":{}}', expect: 'reject', note: `?wait=${w}` });
    for (const w of ['', '0', '99999999999']) cases.push({ method: 'POST', path: `/api/v1/workflows/${workflowId}/executions?wait=${w}`, body: '{"input":{}}', expect: 'any', note: `?wait=${w}` });
    for (const q of ['limit=abc', 'limit=-1', 'limit=NaN', 'limit=1.5', 'limit=1e309', 'status=bogus', 'status=SUCCEEDED', 'status=%00', 'limit=%00']) {
      cases.push({ method: 'GET', path: `/api/v1/executions?${q}`, expect: 'reject', note: `?${q}` });
    }
    for (const q of ['limit=0', 'limit=1000000000', `cursor=${'z'.repeat(3000)}`, 'cursor=%00', 'cursor=!!!', 'workflowId=%27%20OR%201%3D1--', 'workflowId=__proto__',
      'status=succeeded&status=failed', 'limit=1&limit=2', 'workflowId[$ne]=x', 'status[]=failed', `workflowId=${'w'.repeat(5000)}`]) {
      cases.push({ method: 'GET', path: `/api/v1/executions?${q}`, expect: 'any', note: `?${q}` });
    }
    cases.push({ method: 'GET', path: `/api/v1/executions/${executionId}?x=${'%FF'.repeat(100)}`, expect: 'any', note: 'junk query on a valid id' });
    cases.push({ method: 'GET', path: '/api/v1/no-such-route', expect: 'reject', note: 'unknown route' });
    cases.push({ method: 'PATCH', path: '/api/v1/workflows', body: '{}', expect: 'reject', note: 'unsupported method' });
    cases.push({ method: 'DELETE', path: '/api/v1/executions', expect: 'reject', note: 'unsupported method' });
    const violations = await checkAll(cases);
    expect(violations).toEqual([]);
    await expectAlive();
  }, 90_000);

  it('huge inputs: deep nesting, huge strings, a body over the limit, a 30,000-node graph', async () => {
    const big = (n: number): string => 'x'.repeat(n);
    const cases: Case[] = [
      { method: 'POST', path: '/api/v1/workflows', body: JSON.stringify({ ...validWorkflow(), nodes: [manual(), node(big(200_000), 'core.noop')] }), expect: 'any', note: 'a 200,000-char node id' },
      { method: 'POST', path: '/api/v1/workflows', body: JSON.stringify({ ...validWorkflow(), nodes: [manual(), node('n', big(500_000))] }), expect: 'reject', note: 'a 500,000-char node type' },
      { method: 'POST', path: `/api/v1/workflows/${workflowId}/executions`, body: JSON.stringify({ input: { s: big(500_000) } }), expect: 'any', note: 'a 500,000-char input string' },
      { method: 'POST', path: '/api/v1/workflows', body: JSON.stringify({ ...validWorkflow(), pad: big(40 * 1024 * 1024) }), expect: 'reject', note: 'a 40 MB body' },
      { method: 'POST', path: `/api/v1/workflows/${workflowId}/executions`, body: JSON.stringify({ input: { pad: big(40 * 1024 * 1024) } }), expect: 'reject', note: 'a 40 MB execution input' },
      { method: 'POST', path: `/hooks/${hookPath}`, body: JSON.stringify({ pad: big(40 * 1024 * 1024) }), expect: 'reject', note: 'a 40 MB webhook body' },
      { method: 'GET', path: `/api/v1/workflows/${big(60_000)}`, expect: 'reject-raw', note: 'a 60,000-char path' },
      // deep nesting last: a failure there must not hide the others
      { method: 'POST', path: '/api/v1/workflows', body: `{"name":"deep","nodes":${deeplyNested(10_000, 'array')},"edges":[]}`, expect: 'reject', note: 'nodes nested 10,000 deep' },
      { method: 'POST', path: '/api/v1/workflows', body: `{"name":"deep","nodes":[{"id":"s","type":"core.trigger.manual","params":${deeplyNested(100_000)}}],"edges":[]}`, expect: 'any', note: 'params nested 100,000 deep' },
      { method: 'POST', path: '/api/v1/workflows', body: `{"name":${deeplyNested(50_000)},"nodes":[],"edges":[]}`, expect: 'reject', note: 'name nested 50,000 deep' },
      { method: 'POST', path: `/api/v1/workflows/${workflowId}/executions`, body: `{"input":${deeplyNested(100_000)}}`, expect: 'any', note: 'input nested 100,000 deep' },
      { method: 'POST', path: `/api/v1/workflows/${workflowId}/executions`, body: `{"input":${deeplyNested(1_000, 'array')}}`, expect: 'any', note: 'input nested 1,000 deep' },
      { method: 'POST', path: `/hooks/${hookPath}`, body: deeplyNested(100_000), expect: 'any', note: 'webhook body nested 100,000 deep' },
      { method: 'POST', path: '/api/v1/workflows/layout', body: `{"nodes":${deeplyNested(100_000, 'array')},"edges":[]}`, expect: 'reject', note: 'layout nested 100,000 deep' },
    ];
    const violations: Violation[] = [];
    for (const c of cases) {
      const v = await check(c, 60_000);
      if (v) violations.push(v);
      const alive = await api.get('/api/v1/health', { timeoutMs: 10_000 }).catch((err: Error) => ({ status: `down: ${err.message}`, text: '' }));
      if (alive.status !== 200) violations.push({ case: `health after "${c.note}"`, status: alive.status, response: alive.text });
      // and it still runs a workflow (a bad input must not poison what comes after it)
      const probe = await api.post(`/api/v1/workflows/${workflowId}/executions?wait=10000`, { input: { probe: true } }).catch((err: Error) => ({ status: `down: ${err.message}`, text: '', body: undefined }));
      if (probe.status !== 200 || (probe.body as { status?: string } | undefined)?.status !== 'succeeded') {
        violations.push({ case: `a plain run after "${c.note}"`, status: probe.status, response: probe.text.slice(0, 300) });
      }
    }
    expect(violations).toEqual([]);
  }, 120_000);

  it('a 30,000-node graph is refused with a 4xx, quickly, and the daemon keeps answering', async () => {
    const nodes = [manual(), ...Array.from({ length: 29_999 }, (_, i) => node(`n${i}`, 'core.noop'))];
    const edges = chain(...nodes.map((n) => n.id));
    const started = Date.now();
    const v = await check({ method: 'POST', path: '/api/v1/workflows', body: JSON.stringify({ name: 'huge', nodes, edges }), expect: 'reject', note: '30,000 nodes' }, 60_000);
    expect(v).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(15_000);
    const layout = await check({ method: 'POST', path: '/api/v1/workflows/layout', body: JSON.stringify({ nodes, edges }), expect: 'reject', note: '30,000 nodes to layout' }, 60_000);
    expect(layout).toBeUndefined();
    // compact enough to pass the body limit (no params, no edges, short ids): validation itself must refuse it
    const compact = JSON.stringify({ name: 'huge compact', nodes: [manual(), ...Array.from({ length: 29_999 }, (_, i) => ({ id: i.toString(36), type: 'core.noop' }))], edges: [] });
    const compactStarted = Date.now();
    expect(await check({ method: 'POST', path: '/api/v1/workflows', body: compact, expect: 'reject', note: `30,000 nodes in ${compact.length} bytes` }, 60_000)).toBeUndefined();
    expect(Date.now() - compactStarted).toBeLessThan(15_000);
    await expectAlive();
  }, 120_000);

  it('after all of it the daemon still answers and still runs workflows', async () => {
    await expectAlive();
    const created = await api.createWorkflow(loadFixture('diamond'));
    const exec = await api.run(created.id, { after: 'fuzz' });
    expect(exec.status).toBe('succeeded');
  });
});
