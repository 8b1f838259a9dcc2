/**
 * Plugins loaded by the daemon (issue 3, "what a user must be able to do" 1 and 2), against the real
 * daemon process: a plugin listed in the config file (by package name, or by a path relative to that
 * file) shows its node types with their param schemas and runs; broken plugins (missing manifest, wrong
 * SDK, throws on import, duplicate node type, invalid schema, not found) are reported in the log and by
 * GET /api/v1/plugins with the reason, the daemon runs anyway, and a workflow using a type of a broken
 * plugin is refused with a 400 naming the type.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Api, nodeRun, problemsOf } from './support/api.js';
import { REPO_ROOT, startDaemon, type Daemon } from './support/daemon.js';
import { currentRun } from './support/e2e-env.js';
import { chain, manual, node, uid, workflow } from './support/graph.js';
import { startHttpReceiver, type HttpReceiver } from './support/http-receiver.js';

const FIXTURES = path.join(REPO_ROOT, 'libs/plugin-host/src/spec-support/fixtures');

let daemon: Daemon;
let api: Api;
let receiver: HttpReceiver;
let configDir: string;

/** as written in the config file: relative to it */
const rel = (fixture: string): string => `./${path.relative(configDir, path.join(FIXTURES, fixture))}`;

beforeAll(async () => {
  receiver = await startHttpReceiver();
  configDir = mkdtempSync(path.join(currentRun().runDir, 'plugins-config-'));
  const plugins = [
    '@anchorflow/plugin-core', // built in: not loaded twice, not an error
    '@anchorflow/plugin-example', // a package name, resolved through node_modules
    rel('good'),
    rel('duplicate'), // good.hello again
    rel('no-manifest'),
    rel('wrong-sdk'),
    rel('throws'),
    rel('invalid-node'),
    './no-such-plugin',
  ];
  const file = path.join(configDir, 'anchorflow.yaml');
  writeFileSync(file, `plugins:\n${plugins.map((p) => `  - '${p}'`).join('\n')}\n`);
  daemon = await startDaemon({ name: 'plugins', env: { ANCHORFLOW_CONFIG: file } });
  api = new Api(daemon.url);
}, 120_000);

afterAll(async () => {
  await daemon?.stop();
  await receiver?.close();
});

interface PluginRow {
  status: 'loaded' | 'failed';
  spec?: string;
  name?: string;
  version?: string;
  source?: string;
  nodeTypes?: string[];
  code?: string;
  reason?: string;
}

describe('plugins listed in the configuration', () => {
  it('reports loaded plugins with their source and node types, and each broken one with its code and reason', async () => {
    const res = await api.get<{ items: PluginRow[] }>('/api/v1/plugins');
    expect(res.status).toBe(200);
    const rows = res.body.items;
    const loaded = rows.filter((r) => r.status === 'loaded').map(({ name, version, source, nodeTypes }) => ({ name, version, source, nodeTypes }));
    expect(loaded).toEqual([
      { name: '@anchorflow/plugin-core', version: expect.any(String), source: 'built-in', nodeTypes: expect.arrayContaining(['core.trigger.manual', 'core.set', 'core.wait']) },
      { name: '@anchorflow/plugin-notifications', version: expect.any(String), source: 'built-in', nodeTypes: ['notify.email', 'notify.slack', 'notify.discord', 'notify.telegram', 'notify.webhook'] },
      { name: '@anchorflow/plugin-payment-observer', version: '0.1.0', source: 'built-in', nodeTypes: ['payments.trigger.evm', 'payments.trigger.casper', 'payments.trigger.reorg'] },
      { name: '@anchorflow/plugin-example', version: '0.1.0', source: 'config', nodeTypes: ['example.greet', 'example.next-tick'] },
      { name: 'fixture-good', version: '1.2.3', source: 'config', nodeTypes: ['good.hello'] },
    ]);
    const failed = Object.fromEntries(rows.filter((r) => r.status === 'failed').map((r) => [r.spec, { code: r.code, reason: r.reason }]));
    expect(failed).toEqual({
      [rel('duplicate')]: { code: 'DUPLICATE_NODE_TYPE', reason: expect.stringContaining('good.hello (already provided by fixture-good)') },
      [rel('no-manifest')]: { code: 'MANIFEST_MISSING', reason: expect.stringContaining('no "anchorflow" manifest') },
      [rel('wrong-sdk')]: { code: 'SDK_MISMATCH', reason: expect.stringContaining('built for plugin SDK 2') },
      [rel('throws')]: { code: 'IMPORT_FAILED', reason: expect.stringContaining('cannot reach the license server') },
      [rel('invalid-node')]: { code: 'INVALID_NODE', reason: expect.stringMatching(/invalid\.schema: .*schema/i) },
      './no-such-plugin': { code: 'MANIFEST_MISSING', reason: expect.stringContaining('cannot find plugin "./no-such-plugin"') },
    });
    // the manifest is checked before anything is imported: these two throw when imported
    expect(JSON.stringify(failed)).not.toContain('must not be imported');
  });

  it('logs every broken plugin with its reason and keeps running', async () => {
    const lines = daemon.logs().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const notLoaded = lines.filter((l) => l.msg === 'plugin not loaded');
    expect(notLoaded.map((l) => [l.spec, l.code]).sort()).toEqual([
      ['./no-such-plugin', 'MANIFEST_MISSING'],
      [rel('duplicate'), 'DUPLICATE_NODE_TYPE'],
      [rel('invalid-node'), 'INVALID_NODE'],
      [rel('no-manifest'), 'MANIFEST_MISSING'],
      [rel('throws'), 'IMPORT_FAILED'],
      [rel('wrong-sdk'), 'SDK_MISMATCH'],
    ].sort());
    for (const l of notLoaded) expect({ spec: l.spec, level: l.level, reason: typeof l.reason }).toEqual({ spec: l.spec, level: 50, reason: 'string' });
    expect(lines.find((l) => l.event === 'plugins.failed')).toMatchObject({ level: 40, failed: expect.any(Array) });
    const health = await api.get('/api/v1/health');
    expect(health.status).toBe(200);
    expect(daemon.hasExited()).toBe(false);
  });

  it('lists the plugin node types with their param schemas', async () => {
    const res = await api.get<{ items: Array<Record<string, any>> }>('/api/v1/node-types');
    expect(res.status).toBe(200);
    const byType = new Map(res.body.items.map((t) => [t.type as string, t]));
    expect(byType.get('example.greet')).toMatchObject({
      type: 'example.greet', version: 1, title: 'Greet', category: 'action', plugin: '@anchorflow/plugin-example', inputs: ['main'], outputs: ['main'],
      paramsSchema: {
        type: 'object',
        properties: {
          name: expect.objectContaining({ type: 'string', minLength: 1, maxLength: 200 }),
          greeting: expect.objectContaining({ default: 'Hello', enum: ['Hello', 'Hi', 'Welcome'] }),
          notifyUrl: expect.objectContaining({ type: 'string' }),
        },
        required: ['name'],
      },
    });
    expect(byType.get('example.greet')!.remote).toBeUndefined();
    expect(byType.get('good.hello')).toMatchObject({ plugin: 'fixture-good', paramsSchema: { properties: { name: { type: 'string' } } } });
    // nothing of the broken plugins is registered
    for (const t of ['dup.other', 'invalid.schema', 'invalid.shape']) expect(byType.has(t)).toBe(false);
  });

  it('runs the plugin nodes: params from expressions, durable plugin state, side effect with the idempotency key', async () => {
    const tag = uid();
    const wf = await api.createWorkflow(workflow(`greet ${tag}`, [
      manual(),
      node('greet', 'example.greet', { name: '=$.customer.name', greeting: 'Welcome', notifyUrl: `${receiver.url}/${tag}` }),
      node('hello', 'good.hello', { name: '=$.message' }),
    ], chain('start', 'greet', 'hello')));
    const first = await api.run(wf.id, { customer: { name: `Ada ${tag}` } });
    expect({ status: first.status, error: first.error }).toEqual({ status: 'succeeded', error: undefined });
    expect(nodeRun(first, 'greet').output).toEqual({ main: { message: `Welcome, Ada ${tag}!`, times: 1 } });
    expect(nodeRun(first, 'hello').output).toEqual({ main: { text: `Hello Welcome, Ada ${tag}!` } });
    const second = await api.run(wf.id, { customer: { name: `Ada ${tag}` } });
    // ctx.state is the daemon's durable plugin state: the count carries over
    expect(nodeRun(second, 'greet').output).toEqual({ main: { message: `Welcome, Ada ${tag}!`, times: 2 } });
    expect(receiver.requestsTo(`/${tag}`).map((r) => [r.idempotencyKey, (r.json as { message: string }).message])).toEqual([
      [`${first.id}:greet`, `Welcome, Ada ${tag}!`],
      [`${second.id}:greet`, `Welcome, Ada ${tag}!`],
    ]);
  });

  it('validates plugin params with the plugin DTO when a workflow is saved', async () => {
    const res = await api.post('/api/v1/workflows', workflow(`bad greet ${uid()}`, [manual(), node('greet', 'example.greet', { greeting: 'Yo' })], chain('start', 'greet')));
    expect(res.status).toBe(400);
    const problems = problemsOf(res.body);
    expect(problems).toEqual(expect.arrayContaining([
      expect.objectContaining({ nodeId: 'greet', path: expect.stringContaining('greeting') }),
      expect.objectContaining({ nodeId: 'greet', path: expect.stringContaining('name') }),
    ]));
  });

  it('refuses a workflow using a type of a broken plugin with a 400 naming the type', async () => {
    const res = await api.post('/api/v1/workflows', workflow(`broken ${uid()}`, [
      manual(), node('a', 'dup.other'), node('b', 'invalid.schema', { name: 'x' }),
    ], chain('start', 'a', 'b')));
    expect(res.status).toBe(400);
    const problems = problemsOf(res.body).filter((p) => p.code === 'UNKNOWN_NODE_TYPE');
    expect(problems.map((p) => [p.nodeId, p.path, p.message])).toEqual([
      ['a', '$.nodes[1].type', 'unknown node type "dup.other" (no loaded plugin provides it)'],
      ['b', '$.nodes[2].type', 'unknown node type "invalid.schema" (no loaded plugin provides it)'],
    ]);
    expect((res.body as { error: { message: string } }).error.message).toMatch(/dup\.other|invalid/);
  });
});
