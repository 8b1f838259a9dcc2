import type { NodeCatalog } from '@anchorflow/engine';
import type { LoadedPlugin, PluginFailure, PluginFailureCode } from './plugin-loader.js';

/** One row of `GET /api/v1/plugins`. */
export type PluginStatus =
  | { spec: string; name: string; version: string; status: 'loaded'; nodeTypes: string[]; dir: string }
  | { spec: string; name?: string; status: 'failed'; code: PluginFailureCode; reason: string; dir?: string };

/** node types the catalog provides locally (not remote ones): pass as `existingTypes` to loadPlugins */
export function localTypesOf(catalog: NodeCatalog): Map<string, string> {
  return new Map(catalog.types().filter((t) => !catalog.isRemote(t)).map((t) => [t, catalog.pluginOf(t)!]));
}

/** Registers the node types of loaded plugins (the daemon runs them in process). */
export function registerPlugins(catalog: NodeCatalog, plugins: readonly LoadedPlugin[]): void {
  for (const p of plugins) for (const n of p.nodes) catalog.register(n, p.packageName);
}

export function pluginStatuses(plugins: readonly LoadedPlugin[], failures: readonly PluginFailure[]): PluginStatus[] {
  return [
    ...plugins.map((p): PluginStatus => ({ spec: p.spec, name: p.packageName, version: p.plugin.version, status: 'loaded', nodeTypes: p.nodes.map((n) => n.type), dir: p.dir })),
    ...failures.map((f): PluginStatus => ({ spec: f.spec, ...(f.name ? { name: f.name } : {}), status: 'failed', code: f.code, reason: f.reason, ...(f.dir ? { dir: f.dir } : {}) })),
  ];
}
