import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  type NodeCategory,
  type NodeDefinition,
  type NodeLogger,
  type PluginDefinition,
  PLUGIN_SDK_VERSION,
  assertNodeTypeName,
  paramsJsonSchema,
} from '@anchorflow/plugin-sdk';
import { compileJsonSchema } from '@anchorflow/engine';

export type PluginFailureCode = 'MANIFEST_MISSING' | 'SDK_MISMATCH' | 'IMPORT_FAILED' | 'NOT_A_PLUGIN' | 'DUPLICATE_NODE_TYPE' | 'INVALID_NODE' | 'INVALID_CONFIG';

/** A plugin that could not be loaded, and why (shown in the log and by `GET /api/v1/plugins`). */
export interface PluginFailure {
  /** as listed in the config */
  spec: string;
  /** package name, when the manifest could be read */
  name?: string;
  /** package directory, when found */
  dir?: string;
  code: PluginFailureCode;
  reason: string;
}

export interface LoadedPlugin {
  spec: string;
  /** package name (package.json) */
  packageName: string;
  dir: string;
  /** absolute path of the imported entry */
  entry: string;
  /** the default export */
  plugin: PluginDefinition;
  /** every node type it provides (nodes and triggers) */
  nodes: NodeDefinition[];
}

export interface LoadPluginsOptions {
  /** relative paths and package names are resolved from here (default: the current directory) */
  baseDir?: string;
  /** more directories to look up package names from when baseDir does not have them (e.g. the host's own) */
  searchDirs?: readonly string[];
  /** node types provided already (e.g. by plugins loaded earlier), by type → provider name */
  existingTypes?: ReadonlyMap<string, string>;
  /** an entry whose import does not settle within this fails (default 15 s) */
  importTimeoutMs?: number;
  logger?: NodeLogger;
}

export interface LoadPluginsResult {
  plugins: LoadedPlugin[];
  failures: PluginFailure[];
}

class PluginLoadError extends Error {
  constructor(
    readonly code: PluginFailureCode,
    message: string,
    readonly name_?: string,
    readonly dir?: string,
  ) {
    super(message);
  }
}

const CATEGORIES: readonly NodeCategory[] = ['trigger', 'action', 'transform', 'flow', 'chain', 'notification'];
const PORT_RE = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
const PACKAGE_NAME_RE = /^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;

function isPathSpec(spec: string): boolean {
  return isAbsolute(spec) || spec.startsWith('./') || spec.startsWith('../') || spec === '.' || spec === '..' || spec.startsWith(`.${sep}`) || spec.startsWith(`..${sep}`);
}

/** the package directory of a spec: a path, or a package name found in node_modules up from baseDir */
export function resolvePluginDir(spec: string, baseDir: string, searchDirs: readonly string[] = []): string | undefined {
  const asPath = resolve(baseDir, spec);
  if (isPathSpec(spec)) return existsSync(join(asPath, 'package.json')) || existsSync(asPath) ? asPath : undefined;
  if (PACKAGE_NAME_RE.test(spec)) {
    for (const start of [baseDir, ...searchDirs]) {
      for (let dir = resolve(start); ; dir = dirname(dir)) {
        const candidate = join(dir, 'node_modules', spec);
        if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
        if (dirname(dir) === dir) break;
      }
    }
  }
  // `plugins/example` without ./ : a directory relative to baseDir
  return existsSync(join(asPath, 'package.json')) ? asPath : undefined;
}

function readManifest(spec: string, dir: string): { name: string; entry: string } {
  const file = join(dir, 'package.json');
  if (!existsSync(file)) throw new PluginLoadError('MANIFEST_MISSING', `${dir} has no package.json`, undefined, dir);
  let pkg: Record<string, unknown>;
  try {
    pkg = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new PluginLoadError('MANIFEST_MISSING', `package.json is not valid JSON: ${(err as Error).message}`, undefined, dir);
  }
  const name = typeof pkg.name === 'string' ? pkg.name : spec;
  const manifest = pkg.anchorflow as Record<string, unknown> | undefined;
  if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) {
    throw new PluginLoadError('MANIFEST_MISSING', `package.json of ${name} has no "anchorflow" manifest; a plugin declares {"anchorflow": {"sdk": ${PLUGIN_SDK_VERSION}, "entry": "./dist/index.js"}}`, name, dir);
  }
  if (manifest.sdk !== PLUGIN_SDK_VERSION) {
    throw new PluginLoadError('SDK_MISMATCH', `${name} is built for plugin SDK ${JSON.stringify(manifest.sdk ?? null)}; this Anchorflow loads SDK ${PLUGIN_SDK_VERSION} plugins`, name, dir);
  }
  if (typeof manifest.entry !== 'string' || manifest.entry.trim() === '') {
    throw new PluginLoadError('MANIFEST_MISSING', `the anchorflow manifest of ${name} has no "entry" (the module whose default export is definePlugin(...))`, name, dir);
  }
  const entry = resolve(dir, manifest.entry);
  const inside = (p: string) => {
    const rel = relative(realpathSync(dir), p);
    return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
  };
  if (!inside(existsSync(entry) ? realpathSync(entry) : entry)) {
    throw new PluginLoadError('MANIFEST_MISSING', `the entry "${manifest.entry}" of ${name} points outside its package`, name, dir);
  }
  if (!existsSync(entry) || !statSync(entry).isFile()) {
    throw new PluginLoadError('IMPORT_FAILED', `the entry "${manifest.entry}" of ${name} does not exist (was the plugin built?)`, name, dir);
  }
  return { name, entry };
}

async function importWithTimeout(entry: string, ms: number): Promise<Record<string, unknown>> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      import(pathToFileURL(entry).href) as Promise<Record<string, unknown>>,
      new Promise<never>((_r, reject) => {
        timer = setTimeout(() => reject(new Error(`import did not finish within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function isPluginShape(value: unknown): value is PluginDefinition {
  const p = value as Partial<PluginDefinition> | null;
  return typeof p === 'object' && p !== null && typeof p.name === 'string' && p.name !== '' && typeof p.version === 'string' && Array.isArray(p.nodes) && (p.triggers === undefined || Array.isArray(p.triggers));
}

/** Every problem with one node definition (a plugin is plain JS at run time: nothing is taken for granted). */
export function nodeDefinitionProblems(def: unknown): string[] {
  if (typeof def !== 'object' || def === null) return ['is not an object (use defineNode)'];
  const d = def as Partial<NodeDefinition> & { trigger?: { start?: unknown } };
  const problems: string[] = [];
  try {
    assertNodeTypeName(String(d.type));
  } catch (err) {
    problems.push((err as Error).message);
  }
  if (!Number.isInteger(d.version) || (d.version as number) < 1) problems.push('version must be a positive integer');
  if (typeof d.title !== 'string' || d.title.trim() === '') problems.push('title must be a non-empty string');
  if (!CATEGORIES.includes(d.category as NodeCategory)) problems.push(`category must be one of ${CATEGORIES.join(', ')}`);
  if (!Array.isArray(d.inputs) || !d.inputs.every((p) => typeof p === 'string' && PORT_RE.test(p))) problems.push('inputs must be an array of port names');
  if (typeof d.outputs !== 'function' && !(Array.isArray(d.outputs) && d.outputs.every((p) => typeof p === 'string' && PORT_RE.test(p)))) problems.push('outputs must be an array of port names or a function of the params');
  if (typeof d.execute !== 'function') problems.push('execute must be a function');
  if (d.pure !== undefined && typeof d.pure !== 'boolean') problems.push('pure must be a boolean');
  if (d.timeoutMs !== undefined && !(Number.isInteger(d.timeoutMs) && d.timeoutMs > 0)) problems.push('timeoutMs must be a positive integer');
  if (d.retry !== undefined && (typeof d.retry !== 'object' || d.retry === null)) problems.push('retry must be an object');
  if (d.trigger !== undefined && typeof d.trigger?.start !== 'function') problems.push('trigger.start must be a function');
  if (d.params !== undefined) {
    if (typeof d.params !== 'function') problems.push('params must be a class-validator DTO class (not a JSON schema object)');
    else {
      try {
        const schema = paramsJsonSchema(d.params);
        const compiled = compileJsonSchema(schema);
        if (!compiled.ok) problems.push(`params DTO produces an invalid JSON schema: ${compiled.error}`);
      } catch (err) {
        problems.push(`params DTO cannot be turned into a JSON schema: ${(err as Error).message}`);
      }
      try {
        new (d.params as new () => unknown)();
      } catch (err) {
        problems.push(`params DTO cannot be constructed: ${(err as Error).message}`);
      }
    }
  }
  return problems;
}

/**
 * Loads plugin packages in order. For each spec: find the package, check its manifest BEFORE importing
 * anything (`anchorflow.sdk` and `entry` inside the package), import the entry, check the default export
 * and every node definition, and refuse node types another plugin already provides (the later plugin
 * fails). Nothing here throws: each broken plugin is a failure with a code and a reason, and the others
 * load.
 */
export async function loadPlugins(specs: readonly string[], opts: LoadPluginsOptions = {}): Promise<LoadPluginsResult> {
  const baseDir = opts.baseDir ?? process.cwd();
  const providers = new Map<string, string>(opts.existingTypes ?? []);
  const plugins: LoadedPlugin[] = [];
  const failures: PluginFailure[] = [];
  for (const spec of specs) {
    let name: string | undefined;
    let dir: string | undefined;
    try {
      dir = resolvePluginDir(spec, baseDir, opts.searchDirs);
      if (!dir) throw new PluginLoadError('MANIFEST_MISSING', `cannot find plugin "${spec}" (not a directory with a package.json, nor an installed package, from ${baseDir})`);
      const manifest = readManifest(spec, dir);
      name = manifest.name;
      let mod: Record<string, unknown>;
      try {
        mod = await importWithTimeout(manifest.entry, opts.importTimeoutMs ?? 15_000);
      } catch (err) {
        const e = err as Error;
        throw new PluginLoadError('IMPORT_FAILED', `importing ${name} failed: ${e?.message ?? String(err)}`, name, dir);
      }
      const plugin = mod.default;
      if (!isPluginShape(plugin)) {
        throw new PluginLoadError('NOT_A_PLUGIN', `the default export of ${name} is not a plugin: export default definePlugin({ name, version, nodes })`, name, dir);
      }
      const nodes = [...plugin.nodes];
      for (const t of plugin.triggers ?? []) if (!nodes.includes(t)) nodes.push(t);
      const problems: string[] = [];
      const own = new Set<string>();
      nodes.forEach((n, i) => {
        const label = typeof (n as { type?: unknown })?.type === 'string' ? (n as { type: string }).type : `nodes[${i}]`;
        for (const p of nodeDefinitionProblems(n)) problems.push(`${label}: ${p}`);
        if (own.has(label)) problems.push(`${label}: defined twice`);
        own.add(label);
      });
      if (problems.length) throw new PluginLoadError('INVALID_NODE', `${name} has invalid node definitions: ${problems.join('; ')}`, name, dir);
      const clashes = nodes.filter((n) => providers.has(n.type)).map((n) => `${n.type} (already provided by ${providers.get(n.type)})`);
      if (clashes.length) throw new PluginLoadError('DUPLICATE_NODE_TYPE', `${name} provides node types that are already loaded: ${clashes.join(', ')}`, name, dir);
      for (const n of nodes) providers.set(n.type, name);
      plugins.push({ spec, packageName: name, dir, entry: manifest.entry, plugin, nodes });
      opts.logger?.info('plugin loaded', { plugin: name, version: plugin.version, nodeTypes: nodes.map((n) => n.type) });
    } catch (err) {
      const e = err instanceof PluginLoadError ? err : new PluginLoadError('IMPORT_FAILED', String((err as Error)?.message ?? err));
      const failure: PluginFailure = { spec, ...((e.name_ ?? name) ? { name: e.name_ ?? name } : {}), ...((e.dir ?? dir) ? { dir: e.dir ?? dir } : {}), code: e.code, reason: e.message };
      failures.push(failure);
      opts.logger?.error('plugin not loaded', { ...failure });
    }
  }
  return { plugins, failures };
}
