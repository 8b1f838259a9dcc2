import { describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runNode } from '@anchorflow/plugin-sdk/testing';
import { NodeCatalog, DEFAULT_ENGINE_OPTIONS, validateWorkflow } from '@anchorflow/engine';
import { loadPlugins } from './plugin-loader.js';
import { localTypesOf, pluginStatuses, registerPlugins } from './register-plugins.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'spec-support', 'fixtures');
const repoRoot = join(fixtures, '..', '..', '..', '..', '..');
const at = (name: string) => `./${name}`;

describe('loadPlugins', () => {
  it('loads a good plugin: manifest checked, default export and node definitions validated', async () => {
    const { plugins, failures } = await loadPlugins([at('good')], { baseDir: fixtures });
    expect(failures).toEqual([]);
    expect(plugins).toHaveLength(1);
    expect(plugins[0]).toMatchObject({ spec: './good', packageName: 'fixture-good', dir: join(fixtures, 'good'), entry: join(fixtures, 'good', 'index.js'), plugin: { name: 'fixture-good', version: '1.2.3' } });
    const hello = plugins[0].nodes[0];
    expect(await runNode(hello, { params: { name: 'Ada' } })).toMatchObject({ outputs: { main: { text: 'Hello Ada' } } });
  });

  it('reports every kind of broken plugin with a code and a reason, and still loads the good ones', async () => {
    const specs = ['./no-manifest', './wrong-sdk', './throws', './not-a-plugin', './good', './duplicate', './invalid-node', './entry-outside', './not-built', './does-not-exist', 'no-such-package'];
    const { plugins, failures } = await loadPlugins(specs, { baseDir: fixtures });
    expect(plugins.map((p) => p.packageName)).toEqual(['fixture-good']);
    const bySpec = Object.fromEntries(failures.map((f) => [f.spec, f]));
    expect(Object.keys(bySpec)).toEqual(specs.filter((s) => s !== './good'));
    expect(bySpec['./no-manifest']).toMatchObject({ code: 'MANIFEST_MISSING', name: 'fixture-no-manifest', reason: expect.stringContaining('has no "anchorflow" manifest') });
    expect(bySpec['./wrong-sdk']).toMatchObject({ code: 'SDK_MISMATCH', reason: 'fixture-wrong-sdk is built for plugin SDK 2; this Anchorflow loads SDK 1 plugins' });
    expect(bySpec['./throws']).toMatchObject({ code: 'IMPORT_FAILED', reason: expect.stringContaining('cannot reach the license server') });
    expect(bySpec['./not-a-plugin']).toMatchObject({ code: 'NOT_A_PLUGIN', reason: expect.stringContaining('export default definePlugin') });
    expect(bySpec['./duplicate']).toMatchObject({ code: 'DUPLICATE_NODE_TYPE', reason: 'fixture-duplicate provides node types that are already loaded: good.hello (already provided by fixture-good)' });
    expect(bySpec['./invalid-node']).toMatchObject({ code: 'INVALID_NODE' });
    expect(bySpec['./invalid-node'].reason).toContain('invalid.schema: params DTO produces an invalid JSON schema');
    expect(bySpec['./invalid-node'].reason).toContain('invalid.shape: outputs must be an array of port names');
    expect(bySpec['./invalid-node'].reason).toContain('invalid.shape: params must be a class-validator DTO class (not a JSON schema object)');
    expect(bySpec['./entry-outside']).toMatchObject({ code: 'MANIFEST_MISSING', reason: expect.stringContaining('points outside its package') });
    expect(bySpec['./not-built']).toMatchObject({ code: 'IMPORT_FAILED', reason: expect.stringContaining('does not exist (was the plugin built?)') });
    expect(bySpec['./does-not-exist']).toMatchObject({ code: 'MANIFEST_MISSING', reason: expect.stringContaining('cannot find plugin') });
    expect(bySpec['no-such-package']).toMatchObject({ code: 'MANIFEST_MISSING', reason: expect.stringContaining('cannot find plugin "no-such-package"') });
  });

  it('checks the manifest before importing anything', async () => {
    // both entries throw when imported: the reasons show they never were
    const { failures } = await loadPlugins(['./no-manifest', './wrong-sdk'], { baseDir: fixtures });
    for (const f of failures) expect(f.reason).not.toContain('must not be imported');
  });

  it('gives up on an entry whose import never settles', async () => {
    const { failures } = await loadPlugins(['./hangs'], { baseDir: fixtures, importTimeoutMs: 200 });
    expect(failures).toEqual([expect.objectContaining({ code: 'IMPORT_FAILED', reason: expect.stringContaining('import did not finish within 200 ms') })]);
  });

  it('resolves package names through node_modules, like an installed plugin', async () => {
    const app = mkdtempSync(join(tmpdir(), 'af-plugins-'));
    try {
      mkdirSync(join(app, 'node_modules', '@acme'), { recursive: true });
      symlinkSync(join(fixtures, 'good'), join(app, 'node_modules', '@acme', 'hello'));
      const { plugins, failures } = await loadPlugins(['@acme/hello'], { baseDir: join(app, 'config') });
      expect(failures).toEqual([]);
      expect(plugins[0]).toMatchObject({ spec: '@acme/hello', packageName: 'fixture-good', dir: join(fixtures, 'good') });
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
  });

  it('loads the built-in core plugin by package name', async () => {
    const { plugins, failures } = await loadPlugins(['@anchorflow/plugin-core'], { baseDir: repoRoot });
    expect(failures).toEqual([]);
    expect(plugins[0].nodes.map((n) => n.type)).toContain('core.http');
  });

  it('registers loaded node types; workflows using a failed plugin fail validation with a clear message', async () => {
    const catalog = new NodeCatalog();
    const { plugins, failures } = await loadPlugins(['./good', './throws'], { baseDir: fixtures, existingTypes: localTypesOf(catalog) });
    registerPlugins(catalog, plugins);
    expect(catalog.pluginOf('good.hello')).toBe('fixture-good');
    expect(pluginStatuses(plugins, failures)).toEqual([
      { spec: './good', name: 'fixture-good', version: '1.2.3', status: 'loaded', nodeTypes: ['good.hello'], dir: join(fixtures, 'good') },
      { spec: './throws', name: 'fixture-throws', status: 'failed', code: 'IMPORT_FAILED', reason: expect.stringContaining('license server'), dir: join(fixtures, 'throws') },
    ]);
    const r = validateWorkflow({ name: 'w', nodes: [{ id: 'a', type: 'good.hello', params: { name: 'x' } }, { id: 'b', type: 'throws.node' }], edges: [{ from: 'a', to: 'b' }] }, catalog, DEFAULT_ENGINE_OPTIONS);
    expect(r.ok ? [] : r.problems).toEqual([expect.objectContaining({ code: 'UNKNOWN_NODE_TYPE', nodeId: 'b', message: 'unknown node type "throws.node" (no loaded plugin provides it)' })]);
    // a second load of the same types (another config entry) is refused
    const again = await loadPlugins(['./good'], { baseDir: fixtures, existingTypes: localTypesOf(catalog) });
    expect(again.failures).toEqual([expect.objectContaining({ code: 'DUPLICATE_NODE_TYPE' })]);
  });
});
