import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import corePlugin from '@anchorflow/plugin-core';
import { IsInt, Min, type NodeLogger, defineNode, definePlugin } from '@anchorflow/plugin-sdk';
import { loadDaemonPlugins, pluginsBaseDir } from './daemon-plugins.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const FIXTURES = join(REPO, 'libs/plugin-host/src/spec-support/fixtures');

function recordingLogger() {
  const lines: Array<{ level: string; msg: string; fields?: Record<string, unknown> }> = [];
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) => void lines.push({ level, msg, ...(fields ? { fields } : {}) });
  const logger: NodeLogger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

describe('loadDaemonPlugins', () => {
  it('registers the built-in plugin, loads the configured ones and keeps a row for each, failures with their reason', async () => {
    const { logger, lines } = recordingLogger();
    const { catalog, rows } = await loadDaemonPlugins({
      builtIns: [corePlugin],
      specs: ['@anchorflow/plugin-core', join(FIXTURES, 'good'), join(FIXTURES, 'wrong-sdk'), join(FIXTURES, 'duplicate')],
      baseDir: REPO,
      logger,
    });
    expect(rows).toEqual([
      { status: 'loaded', name: '@anchorflow/plugin-core', version: corePlugin.version, source: 'built-in', nodeTypes: corePlugin.nodes.map((n) => n.type) },
      { status: 'loaded', name: 'fixture-good', version: '1.2.3', source: 'config', spec: join(FIXTURES, 'good'), dir: join(FIXTURES, 'good'), nodeTypes: ['good.hello'] },
      { status: 'failed', spec: join(FIXTURES, 'wrong-sdk'), name: 'fixture-wrong-sdk', dir: join(FIXTURES, 'wrong-sdk'), code: 'SDK_MISMATCH', reason: expect.stringContaining('SDK 2') },
      { status: 'failed', spec: join(FIXTURES, 'duplicate'), name: 'fixture-duplicate', dir: join(FIXTURES, 'duplicate'), code: 'DUPLICATE_NODE_TYPE', reason: expect.stringContaining('good.hello') },
    ]);
    expect(catalog.get('good.hello')).toBeDefined();
    expect(catalog.get('core.set')).toBeDefined();
    expect(catalog.get('dup.other')).toBeUndefined();
    expect(lines.filter((l) => l.level === 'error').map((l) => l.fields?.code)).toEqual(['SDK_MISMATCH', 'DUPLICATE_NODE_TYPE']);
    expect(lines.find((l) => l.msg.includes('configured plugin(s) not loaded'))).toMatchObject({ level: 'warn', fields: { event: 'plugins.failed' } });
    expect(lines.find((l) => l.msg === 'plugin is built in; not loaded again')).toBeDefined();
  });

  it('refuses a configured plugin that redefines a built-in node type', async () => {
    const { logger } = recordingLogger();
    const core2 = { ...corePlugin, name: 'other-core' };
    const { rows } = await loadDaemonPlugins({ builtIns: [core2], specs: ['@anchorflow/plugin-core'], baseDir: REPO, logger });
    expect(rows[1]).toMatchObject({ status: 'failed', code: 'DUPLICATE_NODE_TYPE', reason: expect.stringContaining('already provided by other-core') });
  });

  it('checks each plugin config section with the plugin DTO: a bad one fails that plugin, naming the key', async () => {
    class AcmeConfig {
      @IsInt() @Min(100)
      intervalMs: number = 1000;
    }
    const acme = definePlugin({
      name: '@acme/plugin-acme', version: '1.0.0', config: AcmeConfig,
      nodes: [defineNode({ type: 'acme.x', version: 1, title: 'x', category: 'action', inputs: ['main'], outputs: ['main'], execute: () => ({ main: 1 }) })],
    });
    const good = await loadDaemonPlugins({ builtIns: [acme], specs: [], baseDir: REPO, logger: recordingLogger().logger, pluginConfig: { acme: { intervalMs: 250 } } });
    expect(good.hosted).toEqual([{ name: '@acme/plugin-acme', definition: acme, config: expect.objectContaining({ intervalMs: 250 }) }]);
    expect(good.catalog.get('acme.x')).toBeDefined();

    const { logger, lines } = recordingLogger();
    const bad = await loadDaemonPlugins({ builtIns: [acme], specs: [], baseDir: REPO, logger, pluginConfig: { acme: { intervalMs: 5 }, nobody: {} } });
    expect(bad.rows).toEqual([
      { status: 'failed', spec: '@acme/plugin-acme', name: '@acme/plugin-acme', code: 'INVALID_CONFIG', reason: expect.stringContaining('pluginConfig.acme.intervalMs must not be less than 100') },
    ]);
    expect(bad.catalog.get('acme.x')).toBeUndefined();
    expect(bad.hosted).toEqual([]);
    expect(lines.find((l) => l.level === 'error')?.msg).toMatch(/plugin @acme\/plugin-acme not loaded: invalid config section pluginConfig.acme/);
    expect(lines.find((l) => l.msg.startsWith('pluginConfig.nobody belongs to no loaded plugin'))).toMatchObject({ level: 'warn' });
  });
});

describe('pluginsBaseDir', () => {
  it('is the directory of the ANCHORFLOW_CONFIG file, else the working directory', () => {
    expect(pluginsBaseDir({ ANCHORFLOW_CONFIG: 'etc/anchorflow.yaml' }, '/srv')).toBe('/srv/etc');
    expect(pluginsBaseDir({ ANCHORFLOW_CONFIG: '/etc/af/a.yaml' }, '/srv')).toBe('/etc/af');
    expect(pluginsBaseDir({}, '/srv')).toBe('/srv');
  });
});
