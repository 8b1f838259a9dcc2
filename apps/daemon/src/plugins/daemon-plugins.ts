import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NodeCatalog } from '@anchorflow/engine';
import { type NodeLogger, type PluginDefinition, pluginShortName, validatePluginConfig } from '@anchorflow/plugin-sdk';
import { type HostedPlugin, type PluginFailureCode, loadPlugins, localTypesOf, registerPlugins } from '@anchorflow/plugin-host';

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
  /** the loaded plugins with their validated config sections (their services run in this daemon) */
  hosted: HostedPlugin[];
}

export interface LoadDaemonPluginsOptions {
  builtIns: readonly PluginDefinition[];
  /** the `plugins` config key */
  specs: readonly string[];
  /** relative paths and package names are resolved from here */
  baseDir: string;
  logger: NodeLogger;
  /** the `pluginConfig` config key: sections by plugin short name */
  pluginConfig?: Readonly<Record<string, unknown>>;
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
  const hosted: HostedPlugin[] = [];
  const sections = opts.pluginConfig ?? {};
  const usedSections = new Set<string>();
  /** validates the plugin's config section; a failure row (and no registration) when it is bad */
  const configure = (plugin: PluginDefinition, packageName: string, spec: string, dir?: string): boolean => {
    const short = pluginShortName(packageName);
    usedSections.add(short);
    const { value, problems } = validatePluginConfig(plugin.config, sections[short]);
    if (!problems.length) {
      hosted.push({ name: packageName, definition: plugin, config: value });
      return true;
    }
    const reason = `invalid config section pluginConfig.${short}: ${problems.map((p) => `pluginConfig.${short}${p.path.slice(1)} ${p.message}`).join('; ')}`;
    opts.logger.error(`plugin ${packageName} not loaded: ${reason}`, { event: 'plugins.failed', plugin: packageName, code: 'INVALID_CONFIG', problems });
    rows.push({ status: 'failed', spec, name: packageName, ...(dir ? { dir } : {}), code: 'INVALID_CONFIG', reason });
    return false;
  };
  const builtInNames = new Set<string>();
  for (const plugin of opts.builtIns) {
    builtInNames.add(plugin.name);
    if (!configure(plugin, plugin.name, plugin.name)) continue;
    const nodes = [...plugin.nodes, ...(plugin.triggers ?? []).filter((t) => !plugin.nodes.includes(t))];
    for (const def of nodes) catalog.register(def, plugin.name);
    rows.push({ status: 'loaded', name: plugin.name, version: plugin.version, source: 'built-in', nodeTypes: nodes.map((n) => n.type) });
  }
  const specs = opts.specs.filter((spec) => {
    if (!builtInNames.has(spec)) return true;
    opts.logger.info('plugin is built in; not loaded again', { plugin: spec });
    return false;
  });
  if (specs.length) {
    const loaded = await loadPlugins(specs, { baseDir: opts.baseDir, searchDirs: [DAEMON_DIR], existingTypes: localTypesOf(catalog), logger: opts.logger });
    const { failures } = loaded;
    const plugins = loaded.plugins.filter((p) => configure(p.plugin, p.packageName, p.spec, p.dir));
    registerPlugins(catalog, plugins);
    for (const p of plugins) {
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
  for (const section of Object.keys(sections)) {
    if (!usedSections.has(section)) opts.logger.warn(`pluginConfig.${section} belongs to no loaded plugin; ignored`, { event: 'plugins.config.unused', section });
  }
  opts.logger.info('plugins ready', {
    event: 'plugins.loaded',
    loaded: rows.filter((r) => r.status === 'loaded').map((r) => `${r.name}@${(r as { version: string }).version}`),
    failed: rows.filter((r) => r.status === 'failed').length,
    nodeTypes: catalog.types().length,
  });
  return { catalog, rows, hosted };
}
