import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NodeCatalog } from '@anchorflow/engine';
import type { CredentialTypeDefinition, NodeLogger, PluginDefinition } from '@anchorflow/plugin-sdk';
import { type PluginFailureCode, loadPlugins, localTypesOf, registerPlugins } from '@anchorflow/plugin-host';

/** One row of `GET /api/v1/plugins`. */
export type PluginRow =
  | {
      status: 'loaded';
      name: string;
      version: string;
      /** `built-in`: shipped with the daemon; `config`: listed in `plugins` */
      source: 'built-in' | 'config';
      /** as listed in the config */
      spec?: string;
      /** where it was loaded from */
      dir?: string;
      nodeTypes: string[];
    }
  | { status: 'failed'; spec: string; name?: string; dir?: string; code: PluginFailureCode; reason: string };

export interface DaemonPlugins {
  /** built-in and configured node types (remote ones are added by the NATS registry) */
  catalog: NodeCatalog;
  rows: PluginRow[];
  /** credential types the loaded plugins declare (the vault validates their data), by type */
  credentialTypes: Map<string, { def: CredentialTypeDefinition; plugin: string }>;
}

/** Adds a plugin's credential types; the first plugin to declare a type keeps it. */
function addCredentialTypes(into: DaemonPlugins['credentialTypes'], plugin: PluginDefinition, logger: NodeLogger): void {
  for (const def of plugin.credentials ?? []) {
    const existing = into.get(def.type);
    if (existing) {
      logger.warn(`credential type ${def.type} of ${plugin.name} is already declared by ${existing.plugin}; keeping that one`, { event: 'plugins.credential-type-clash', type: def.type });
      continue;
    }
    into.set(def.type, { def, plugin: plugin.name });
  }
}

export interface LoadDaemonPluginsOptions {
  builtIns: readonly PluginDefinition[];
  /** the `plugins` config key */
  specs: readonly string[];
  /** relative paths and package names are resolved from here */
  baseDir: string;
  logger: NodeLogger;
}

/** apps/daemon/dist (or src): package names not installed beside the config are looked up from the daemon's own node_modules */
const DAEMON_DIR = dirname(fileURLToPath(import.meta.url));

/** Relative plugin paths are relative to the ANCHORFLOW_CONFIG file when there is one, else to the working directory. */
export function pluginsBaseDir(env: Readonly<Record<string, string | undefined>> = process.env, cwd = process.cwd()): string {
  const file = env.ANCHORFLOW_CONFIG?.trim();
  return file ? dirname(resolve(cwd, file)) : cwd;
}

/**
 * Registers the built-in plugins, then loads the configured ones (manifest checked before import, each
 * failure isolated, logged with its reason and kept for `GET /api/v1/plugins`). Never throws for a
 * broken plugin: the daemon starts without it and workflows using its types fail validation.
 */
export async function loadDaemonPlugins(opts: LoadDaemonPluginsOptions): Promise<DaemonPlugins> {
  const catalog = new NodeCatalog();
  const rows: PluginRow[] = [];
  const credentialTypes: DaemonPlugins['credentialTypes'] = new Map();
  const builtInNames = new Set<string>();
  for (const plugin of opts.builtIns) {
    addCredentialTypes(credentialTypes, plugin, opts.logger);
    const nodes = [...plugin.nodes, ...(plugin.triggers ?? []).filter((t) => !plugin.nodes.includes(t))];
    for (const def of nodes) catalog.register(def, plugin.name);
    builtInNames.add(plugin.name);
    rows.push({ status: 'loaded', name: plugin.name, version: plugin.version, source: 'built-in', nodeTypes: nodes.map((n) => n.type) });
  }
  const specs = opts.specs.filter((spec) => {
    if (!builtInNames.has(spec)) return true;
    opts.logger.info('plugin is built in; not loaded again', { plugin: spec });
    return false;
  });
  if (specs.length) {
    const { plugins, failures } = await loadPlugins(specs, { baseDir: opts.baseDir, searchDirs: [DAEMON_DIR], existingTypes: localTypesOf(catalog), logger: opts.logger });
    registerPlugins(catalog, plugins);
    for (const p of plugins) {
      addCredentialTypes(credentialTypes, p.plugin, opts.logger);
      rows.push({ status: 'loaded', name: p.packageName, version: p.plugin.version, source: 'config', spec: p.spec, dir: p.dir, nodeTypes: p.nodes.map((n) => n.type) });
    }
    for (const f of failures) {
      rows.push({ status: 'failed', spec: f.spec, ...(f.name ? { name: f.name } : {}), ...(f.dir ? { dir: f.dir } : {}), code: f.code, reason: f.reason });
    }
    if (failures.length) {
      opts.logger.warn(`${failures.length} of ${specs.length} configured plugin(s) not loaded; starting without them (GET /api/v1/plugins shows why)`, {
        event: 'plugins.failed',
        failed: failures.map((f) => ({ spec: f.spec, code: f.code, reason: f.reason })),
      });
    }
  }
  opts.logger.info('plugins ready', {
    event: 'plugins.loaded',
    loaded: rows.filter((r) => r.status === 'loaded').map((r) => `${r.name}@${(r as { version: string }).version}`),
    failed: rows.filter((r) => r.status === 'failed').length,
    nodeTypes: catalog.types().length,
  });
  return { catalog, rows, credentialTypes };
}
