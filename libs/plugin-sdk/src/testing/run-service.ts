import { NodeError } from '../errors.js';
import { HEALTH_NAME_RE, type HealthReport } from '../health.js';
import { noopMetrics, type PluginMetrics } from '../metrics.js';
import type { NodeLogger, PluginState } from '../node.js';
import type { ParamProblem } from '../params.js';
import { type ConfigClass, type ServiceContext, type ServiceDefinition, validatePluginConfig } from '../service.js';
import { MemoryPluginState } from './memory-plugin-state.js';

export interface RunServiceOptions<C> {
  /** the plugin's config section, as it would appear in the daemon's config */
  config?: C | Record<string, unknown>;
  /** the plugin's config DTO: when given, config is validated (and defaults applied) as the daemon would */
  configClass?: ConfigClass<C & object>;
  /** share it with runNode() to let nodes and the service see the same durable state */
  state?: PluginState;
  /** credentials by reference name */
  credentials?: Record<string, Record<string, unknown>>;
  /** the engine's clock; default Date.now */
  clock?: { now(): number };
  /** what ctx.metrics reports into (a RecordingMetrics to assert on); default: nothing recorded */
  metrics?: PluginMetrics;
  /** what ctx.resume answers (is a node waiting on this token?); default: true */
  isWaiting?: (token: string) => boolean;
}

export interface RunningService<C> {
  ctx: ServiceContext<C>;
  /** every ctx.resume() call, in order */
  resumed: Array<{ token: string; data: unknown }>;
  logs: Array<{ level: string; msg: string; fields?: Record<string, unknown> }>;
  /** the latest ctx.health report by name (what the daemon's readiness would list) */
  health: Map<string, HealthReport>;
  /** aborts ctx.signal and calls the service's stop function (once) */
  stop(): Promise<void>;
}

/** Starts a service the way the host would, without a daemon; stop() it at the end of the test. */
export async function runService<C>(service: ServiceDefinition<C>, options: RunServiceOptions<C> = {}): Promise<RunningService<C>> {
  let config = (options.config ?? {}) as C;
  if (options.configClass) {
    const checked = validatePluginConfig(options.configClass, options.config);
    if (checked.problems.length) {
      throw new NodeError(`invalid config: ${checked.problems.map((p: ParamProblem) => `${p.path} ${p.message}`).join('; ')}`, 'INVALID_CONFIG', checked.problems);
    }
    config = checked.value as C;
  }
  const resumed: Array<{ token: string; data: unknown }> = [];
  const logs: RunningService<C>['logs'] = [];
  const log = (level: string) => (msg: string, fields?: Record<string, unknown>) => void logs.push({ level, msg, ...(fields ? { fields } : {}) });
  const logger: NodeLogger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
  const creds = options.credentials ?? {};
  const abort = new AbortController();
  const clock = options.clock ?? { now: () => Date.now() };
  const health = new Map<string, HealthReport>();
  const ctx: ServiceContext<C> = {
    config,
    logger,
    credentials: {
      get: async <T extends object>(ref: string) => {
        const c = creds[ref];
        if (!c) throw new NodeError(`credential "${ref}" not found`, 'CREDENTIAL_NOT_FOUND');
        return c as T;
      },
    },
    state: options.state ?? new MemoryPluginState(),
    signal: abort.signal,
    now: () => clock.now(),
    metrics: options.metrics ?? noopMetrics,
    health: {
      report: (name, report) => {
        if (!HEALTH_NAME_RE.test(name)) throw new TypeError(`health report name ${JSON.stringify(name)}: letters, digits and .:_- (at most 128)`);
        health.set(name, report);
      },
      clear: (name) => void health.delete(name),
    },
    resume: async (token, data) => {
      resumed.push({ token, data });
      return options.isWaiting ? options.isWaiting(token) : true;
    },
  };
  const stopFn = await service.start(ctx);
  let stopped: Promise<void> | undefined;
  return {
    ctx,
    resumed,
    logs,
    health,
    stop: () =>
      (stopped ??= (async () => {
        abort.abort(new Error('service stopped'));
        await stopFn();
      })()),
  };
}
