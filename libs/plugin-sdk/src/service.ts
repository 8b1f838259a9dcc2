import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import type { ServiceHealth } from './health.js';
import type { PluginMetrics } from './metrics.js';
import type { CredentialsAccessor, NodeLogger, PluginState } from './node.js';
import type { ParamProblem } from './params.js';

/**
 * What a running plugin service gets. A service is long-lived background work owned by a plugin, not by
 * a workflow (a batcher collecting leaves from many executions, a chain follower, a connection pool).
 * Nodes and services talk through durable plugin state: a node records a pending item (keyed by its
 * idempotency key) and returns `ctx.suspend({ token })`; the service later calls `ctx.resume(token, data)`.
 */
export interface ServiceContext<C = Record<string, unknown>> {
  /** the plugin's own config section (`pluginConfig.<shortName>`), validated by the plugin's config DTO */
  readonly config: C;
  readonly logger: NodeLogger;
  readonly credentials: CredentialsAccessor;
  /** the same durable per-plugin state the plugin's nodes get as ctx.state */
  readonly state: PluginState;
  /** aborted when the service must stop (SIGTERM, lease lost, daemon shutting down) */
  readonly signal: AbortSignal;
  /** epoch ms from the engine's clock */
  now(): number;
  /**
   * the plugin's own Prometheus metrics (named `anchorflow_plugin_<plugin>_<name>` by the daemon), the same
   * registry its nodes' ctx.metrics reach: a follower's blocks behind head, a batcher's fallbacks
   */
  readonly metrics: PluginMetrics;
  /**
   * the state of what the service depends on (RPC URLs, relays), listed by the daemon's readiness as
   * `<plugin>:<name>`: ok / degraded (still 200) / down (503). See EndpointsHealth for several endpoints.
   */
  readonly health: ServiceHealth;
  /** wakes the node suspended with this token, delivering data; false when no node waits on it */
  resume(token: string, data?: unknown): Promise<boolean>;
}

/**
 * `every-daemon`: one instance in every daemon and worker process that loads the plugin.
 * `one-per-cluster`: one instance among all processes sharing the database; it holds a lease and moves
 * to another process when its holder dies.
 */
export type ServiceScope = 'every-daemon' | 'one-per-cluster';

export type ServiceStop = () => Promise<void> | void;

export interface ServiceDefinition<C = any> {
  /** unique within the plugin: lowercase letters, digits and - */
  name: string;
  scope: ServiceScope;
  /**
   * Starts the service and returns the function that stops it. Throwing (here or later through an
   * unhandled failure reported by the host) marks the service failed; the host restarts it with backoff.
   */
  start(ctx: ServiceContext<C>): Promise<ServiceStop> | ServiceStop;
}

const SERVICE_NAME_RE = /^[a-z][a-z0-9-]*$/;

export function defineService<C>(def: ServiceDefinition<C>): ServiceDefinition<C> {
  if (!def || typeof def.name !== 'string' || !SERVICE_NAME_RE.test(def.name)) {
    throw new TypeError(`defineService: name "${def?.name}" must be lowercase letters, digits and - (starting with a letter)`);
  }
  if (def.scope !== 'every-daemon' && def.scope !== 'one-per-cluster') {
    throw new TypeError(`service ${def.name}: scope must be 'every-daemon' or 'one-per-cluster', got ${JSON.stringify(def.scope)}`);
  }
  if (typeof def.start !== 'function') throw new TypeError(`service ${def.name}: start must be a function`);
  return Object.freeze({ ...def });
}

/** A plugin's config DTO: a class decorated with class-validator decorators (like a params DTO). */
export type ConfigClass<C = object> = new () => C;

function flattenConfig(errors: ValidationError[], base: string, out: ParamProblem[]): void {
  for (const e of errors) {
    const path = /^\d+$/.test(e.property) ? `${base}[${e.property}]` : `${base}.${e.property}`;
    if (e.constraints) {
      const messages = Object.entries(e.constraints).map(([name, m]) => (name === 'whitelistValidation' ? 'is not a known key' : m.startsWith(`${e.property} `) ? m.slice(e.property.length + 1) : m));
      out.push({ path, message: messages.join('; ') });
    }
    if (e.children?.length) flattenConfig(e.children, path, out);
  }
}

/**
 * Validates a plugin's config section against its DTO (unknown keys rejected, defaults of the class
 * applied). Without a DTO the section is passed through as it is (an object, `{}` when absent).
 */
export function validatePluginConfig<C extends object>(cls: ConfigClass<C> | undefined, raw: unknown): { value: C; problems: ParamProblem[] } {
  if (raw === undefined || raw === null) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) return { value: {} as C, problems: [{ path: '$', message: 'the plugin config section must be an object' }] };
  if (!cls) return { value: raw as C, problems: [] };
  const value = plainToInstance(cls, raw, { exposeDefaultValues: true }) as C;
  const problems: ParamProblem[] = [];
  flattenConfig(validateSync(value as object, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: false }), '$', problems);
  return { value, problems };
}

/**
 * The config section name of a plugin package: `@scope/plugin-foo`, `anchorflow-plugin-foo` and
 * `plugin-foo` give `foo`; other names lose their scope (`@acme/bar` → `bar`).
 */
export function pluginShortName(packageName: string): string {
  const base = packageName.replace(/^@[^/]+\//, '');
  return base.replace(/^(anchorflow-)?plugin-/, '');
}
