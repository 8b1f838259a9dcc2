import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { parse as parseYaml } from 'yaml';
import { AnchorflowConfig, CONFIG_KEYS, CONVENTIONAL_ENV, SECRET_ENV_VARS, SECRET_KEYS } from './config.schema.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** One YAML document to merge, with a name for error messages (usually its path). */
export interface ConfigSource {
  name: string;
  text: string;
}

/** Thrown once with every problem found, so a bad deployment is fixed in one round. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** `http.port` → `ANCHORFLOW_HTTP_PORT`, `dataDir` → `ANCHORFLOW_DATA_DIR`. */
export function envNameOf(path: string): string {
  return `ANCHORFLOW_${path.split('.').map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_')}`;
}

/** The variable naming the optional config file. */
export const CONFIG_FILE_ENV = 'ANCHORFLOW_CONFIG';

/** config/default.yaml of this checkout (same depth from src/ and dist/). */
export const DEFAULT_CONFIG_PATH = fileURLToPath(new URL('../../../../config/default.yaml', import.meta.url));

type Tree = Record<string, unknown>;

const isPlainObject = (v: unknown): v is Tree => typeof v === 'object' && v !== null && !Array.isArray(v);

function mergeInto(target: Tree, source: Tree, prefix: string, origin: Map<string, string>, sourceName: string): void {
  for (const [key, value] of Object.entries(source)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (isPlainObject(value) && isPlainObject(target[key])) {
      mergeInto(target[key] as Tree, value, path, origin, sourceName);
    } else {
      target[key] = isPlainObject(value) ? structuredClone(value) : value;
      origin.set(path, sourceName);
    }
  }
}

function setPath(tree: Tree, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = tree;
  for (const part of parts.slice(0, -1)) {
    if (!isPlainObject(node[part])) node[part] = {};
    node = node[part] as Tree;
  }
  node[parts.at(-1)!] = value;
}

function getPath(tree: Tree, path: string): unknown {
  let node: unknown = tree;
  for (const part of path.split('.')) node = isPlainObject(node) ? node[part] : undefined;
  return node;
}

/** `null` in YAML means "not set": drop it so optional keys stay undefined. */
function dropNulls(tree: Tree): Tree {
  for (const [key, value] of Object.entries(tree)) {
    if (value === null) delete tree[key];
    else if (isPlainObject(value)) dropNulls(value);
  }
  return tree;
}

function coerce(raw: string, type: 'string' | 'number' | 'boolean' | 'list'): unknown {
  const text = raw.trim();
  // `a, b` → ['a', 'b'] (ANCHORFLOW_PLUGINS)
  if (type === 'list') return text.split(',').map((item) => item.trim()).filter((item) => item !== '');
  if (type === 'number' && /^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (type === 'boolean') {
    if (/^(true|1|yes|on)$/i.test(text)) return true;
    if (/^(false|0|no|off)$/i.test(text)) return false;
  }
  // left as a string: validation reports it with the expected type
  return type === 'string' ? raw : text;
}

function flattenErrors(errors: ValidationError[], prefix: string, out: Array<{ path: string; messages: string[] }>): void {
  for (const e of errors) {
    const path = prefix ? `${prefix}.${e.property}` : e.property;
    if (e.constraints) {
      const messages = Object.entries(e.constraints).map(([name, message]) =>
        name === 'whitelistValidation' ? 'unknown key' : message.replace(new RegExp(`^(nested property )?${e.property} `), ''),
      );
      out.push({ path, messages });
    }
    if (e.children?.length) flattenErrors(e.children, path, out);
  }
}

/**
 * Merges YAML sources (in order, later wins), then `ANCHORFLOW_*` variables, then the conventional
 * ones (PORT, HOST, DATABASE_URL, NATS_URL; an `ANCHORFLOW_*` variable for the same key wins),
 * validates the result and returns it typed. Pure: reading files is the caller's job
 * (see readConfigFiles). Throws ConfigError listing every problem.
 */
export function loadConfig(env: Env, files: readonly ConfigSource[]): AnchorflowConfig {
  const problems: string[] = [];
  const merged: Tree = {};
  const origin = new Map<string, string>();

  for (const file of files) {
    let doc: unknown;
    try {
      doc = parseYaml(file.text);
    } catch (err) {
      problems.push(`${file.name}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
      continue;
    }
    if (doc === null || doc === undefined) continue;
    if (!isPlainObject(doc)) {
      problems.push(`${file.name}: must be a YAML mapping of sections (http, engine, …)`);
      continue;
    }
    mergeInto(merged, doc, '', origin, file.name);
  }

  const fromEnv = (name: string, path: string, type: 'string' | 'number' | 'boolean' | 'list') => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return;
    setPath(merged, path, coerce(raw, type));
    origin.set(path, name);
  };
  const typeOf = new Map(CONFIG_KEYS.map((k) => [k.path, k.type]));
  for (const [name, path] of Object.entries(CONVENTIONAL_ENV)) fromEnv(name, path, typeOf.get(path)!);
  for (const { path, type } of CONFIG_KEYS) fromEnv(envNameOf(path), path, type);

  dropNulls(merged);
  const config = plainToInstance(AnchorflowConfig, merged);
  const errors = validateSync(config, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
  const flat: Array<{ path: string; messages: string[] }> = [];
  flattenErrors(errors, '', flat);
  for (const { path, messages } of flat) {
    const value = getPath(merged, path);
    const shown = value === undefined ? 'not set' : SECRET_KEYS.has(path) ? '(secret)' : JSON.stringify(value);
    const from = origin.get(path);
    problems.push(`${path} = ${shown}${from ? ` (from ${from})` : ''}: ${messages.join('; ')}`);
  }
  if (problems.length) throw new ConfigError(problems);
  return config;
}

/** Reads config/default.yaml and the file named by ANCHORFLOW_CONFIG (if any), for loadConfig. */
export function readConfigFiles(env: Env, options: { defaultsPath?: string; cwd?: string } = {}): ConfigSource[] {
  const defaultsPath = options.defaultsPath ?? DEFAULT_CONFIG_PATH;
  const sources: ConfigSource[] = [];
  const problems: string[] = [];
  const read = (path: string, why: string) => {
    try {
      sources.push({ name: path, text: readFileSync(path, 'utf8') });
    } catch (err) {
      problems.push(`${why} ${path} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  read(defaultsPath, 'the defaults file');
  const extra = env[CONFIG_FILE_ENV];
  if (extra && extra.trim() !== '') read(resolve(options.cwd ?? process.cwd(), extra), `${CONFIG_FILE_ENV}:`);
  if (problems.length) throw new ConfigError(problems);
  return sources;
}

/** `ANCHORFLOW_*` variables that set no key (likely typos); the daemon warns about them. */
export function unknownEnvVars(env: Env): string[] {
  const known = new Set([CONFIG_FILE_ENV, ...SECRET_ENV_VARS, ...CONFIG_KEYS.map((k) => envNameOf(k.path))]);
  return Object.keys(env).filter((name) => name.startsWith('ANCHORFLOW_') && !known.has(name) && !name.startsWith('ANCHORFLOW_TEST')).sort();
}

/** `postgres://user:secret@host/db` → `postgres://user:***@host/db` (unparseable → `***`). */
export function redactUrl(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    for (const key of [...u.searchParams.keys()]) {
      if (/pass|secret|token|key/i.test(key)) u.searchParams.set(key, '***');
    }
    return u.toString();
  } catch {
    return '***';
  }
}

/** A copy that is safe to log. */
export function redactConfig(config: AnchorflowConfig): Record<string, unknown> {
  return {
    ...config,
    database: { ...config.database, url: redactUrl(config.database.url) },
    nats: { ...config.nats, url: redactNatsUrl(config.nats.url) },
    metrics: config.metrics && { ...config.metrics, token: config.metrics.token === undefined ? undefined : '***' },
  };
}

/** NATS URLs may list several servers, and `nats://token@host` carries the token as the user name. */
export function redactNatsUrl(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  return url
    .split(',')
    .map((server) => {
      const redacted = redactUrl(server.trim());
      try {
        const u = new URL(redacted!);
        if (u.username && !u.password) u.username = '***';
        return u.toString().replace(/\/$/, '');
      } catch {
        return '***';
      }
    })
    .join(',');
}
