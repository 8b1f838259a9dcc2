import type { NamedLeases } from '@anchorflow/engine';
import { type CredentialsAccessor, HEALTH_NAME_RE, type HealthReport, type NodeLogger, noopMetrics, type PluginDefinition, type PluginMetrics, type PluginState, type ServiceContext, type ServiceDefinition, type ServiceScope, type ServiceStop } from '@anchorflow/plugin-sdk';
import { LeaseHolder } from './lease-holder.js';

/**
 * `starting`: start() is running; `running`; `standby`: one-per-cluster, another process holds it;
 * `failed`: start() threw, a restart is scheduled (`retryAt`); `stopped`: the host stopped.
 */
export type ServiceStatusName = 'starting' | 'running' | 'standby' | 'failed' | 'stopped';

/** One service, as `GET /api/v1/plugins` shows it. */
export interface ServiceStatus {
  plugin: string;
  name: string;
  scope: ServiceScope;
  status: ServiceStatusName;
  /** when it entered this status (ISO) */
  since: string;
  /** restarts after a failure since the host started */
  restarts: number;
  lastError?: { message: string; at: string };
  /** failed: when the next attempt is due (ISO) */
  retryAt?: string;
}

/** One ctx.health report of a running service, as the daemon's readiness lists it. */
export interface ServiceHealthEntry {
  plugin: string;
  service: string;
  name: string;
  report: HealthReport;
  /** when the report's state last changed (ISO) */
  since: string;
  /** when it was last reported (ISO) */
  at: string;
}

const HEALTH_STATES = new Set(['ok', 'degraded', 'down']);

export interface HostedPlugin {
  /** the package name (state and credentials are scoped to it) */
  name: string;
  definition: PluginDefinition;
  /** the plugin's config section, validated already */
  config: unknown;
}

export interface ServiceHostOptions {
  plugins: readonly HostedPlugin[];
  state: (plugin: string) => PluginState;
  credentials: CredentialsAccessor;
  /** wakes the node suspended with this token; false when none waits */
  resume(token: string, data?: unknown): Promise<boolean>;
  now(): number;
  logger: NodeLogger;
  leases: NamedLeases;
  /** this process's id among the lease holders */
  holder: string;
  leaseMs: number;
  /** restart delays after a failure: initialMs doubling up to maxMs (defaults 1 s and 60 s) */
  backoff?: { initialMs?: number; maxMs?: number };
  /** the plugin's metrics (ctx.metrics); none recorded when absent (e.g. a worker) */
  metrics?: (plugin: string) => PluginMetrics;
  /** told of every restart after a failure (the daemon counts them) */
  onRestart?: (plugin: string, service: string) => void;
}

/**
 * Runs the plugins' services (defineService): every-daemon ones at once, one-per-cluster ones while this
 * process holds their lease. A service whose start() throws is reported (status `failed`, lastError) and
 * restarted with exponential backoff; nothing a service does stops the host.
 */
export class ServiceHost {
  private readonly runners: ServiceRunner[];

  constructor(private readonly opts: ServiceHostOptions) {
    this.runners = opts.plugins.flatMap((p) => (p.definition.services ?? []).map((s) => new ServiceRunner(p, s, opts)));
  }

  start(): void {
    for (const r of this.runners) r.start();
  }

  /** stops every service (aborts their signals, awaits their stop functions) and releases the leases */
  async stop(): Promise<void> {
    await Promise.all(this.runners.map((r) => r.stop()));
  }

  statuses(): ServiceStatus[] {
    return this.runners.map((r) => r.status());
  }

  /** the ctx.health reports of the services running in this process (none from standby or failed ones) */
  health(): ServiceHealthEntry[] {
    return this.runners.flatMap((r) => r.health());
  }

  get size(): number {
    return this.runners.length;
  }
}

class ServiceRunner {
  private state: ServiceStatusName = 'stopped';
  private since = Date.now();
  private restarts = 0;
  private failures = 0;
  private lastError?: { message: string; at: string };
  private retryAt?: number;
  private retryTimer?: NodeJS.Timeout;
  private abort?: AbortController;
  private stopFn?: Promise<ServiceStop | undefined>;
  private lease?: LeaseHolder;
  private readonly logger: NodeLogger;
  private active = false;
  private readonly reports = new Map<string, { report: HealthReport; since: number; at: number }>();

  constructor(
    private readonly plugin: HostedPlugin,
    private readonly def: ServiceDefinition,
    private readonly opts: ServiceHostOptions,
  ) {
    this.logger = prefixed(opts.logger, { plugin: plugin.name, service: def.name });
  }

  start(): void {
    this.active = true;
    if (this.def.scope === 'every-daemon') {
      this.launch();
      return;
    }
    this.set('standby');
    this.lease = new LeaseHolder(`service:${this.plugin.name}/${this.def.name}`, {
      leases: this.opts.leases,
      holder: this.opts.holder,
      ttlMs: this.opts.leaseMs,
      logger: this.logger,
      onAcquired: () => this.launch(),
      onLost: async () => {
        await this.halt();
        if (this.active) this.set('standby');
      },
    });
    this.lease.start();
  }

  async stop(): Promise<void> {
    this.active = false;
    if (this.lease) await this.lease.stop();
    await this.halt();
    this.set('stopped');
  }

  status(): ServiceStatus {
    return {
      plugin: this.plugin.name,
      name: this.def.name,
      scope: this.def.scope,
      status: this.state,
      since: new Date(this.since).toISOString(),
      restarts: this.restarts,
      ...(this.lastError ? { lastError: this.lastError } : {}),
      ...(this.state === 'failed' && this.retryAt ? { retryAt: new Date(this.retryAt).toISOString() } : {}),
    };
  }

  health(): ServiceHealthEntry[] {
    return [...this.reports].map(([name, r]) => ({ plugin: this.plugin.name, service: this.def.name, name, report: r.report, since: new Date(r.since).toISOString(), at: new Date(r.at).toISOString() }));
  }

  private reportHealth(abort: AbortController, name: string, report: HealthReport): void {
    if (typeof name !== 'string' || !HEALTH_NAME_RE.test(name)) throw new TypeError(`ctx.health.report: name ${JSON.stringify(name)} must be letters, digits and .:_- (at most 128)`);
    if (!report || !HEALTH_STATES.has(report.state)) throw new TypeError(`ctx.health.report(${name}): state must be "ok", "degraded" or "down", got ${JSON.stringify(report?.state)}`);
    if (abort.signal.aborted) return; // a stopped instance speaks no more
    const now = Date.now();
    const prev = this.reports.get(name);
    this.reports.set(name, { report: structuredClone(report), since: prev && prev.report.state === report.state ? prev.since : now, at: now });
    if (prev?.report.state !== report.state && (prev || report.state !== 'ok')) {
      const log = report.state === 'ok' ? this.logger.info : this.logger.warn;
      log(`dependency ${name} is ${report.state}`, { event: 'service.health', name, state: report.state, ...(report.detail ? { detail: report.detail } : {}) });
    }
  }

  private set(state: ServiceStatusName): void {
    if (this.state !== state) this.since = Date.now();
    this.state = state;
  }

  /** starts the service once; a failure schedules the next attempt */
  private launch(): void {
    if (!this.active) return;
    this.set('starting');
    const abort = new AbortController();
    this.abort = abort;
    const ctx: ServiceContext<unknown> = {
      config: this.plugin.config,
      logger: this.logger,
      credentials: this.opts.credentials,
      state: this.opts.state(this.plugin.name),
      signal: abort.signal,
      now: () => this.opts.now(),
      metrics: this.opts.metrics?.(this.plugin.name) ?? noopMetrics,
      health: {
        report: (name, report) => this.reportHealth(abort, name, report),
        clear: (name) => {
          if (!abort.signal.aborted) this.reports.delete(name);
        },
      },
      resume: (token, data) => this.opts.resume(token, data),
    };
    this.stopFn = Promise.resolve()
      .then(() => this.def.start(ctx as ServiceContext<any>))
      .then(
        (stop) => {
          if (typeof stop !== 'function') throw new TypeError(`start() of service ${this.def.name} must return its stop function`);
          if (!abort.signal.aborted) {
            this.failures = 0;
            this.set('running');
            this.logger.info('service started', { scope: this.def.scope });
          }
          return stop;
        },
        (err: unknown) => {
          this.fail(err, abort);
          return undefined;
        },
      )
      .catch((err: unknown) => {
        this.fail(err, abort);
        return undefined;
      });
  }

  private fail(err: unknown, abort: AbortController): void {
    if (abort.signal.aborted || !this.active) return;
    abort.abort();
    this.reports.clear();
    const message = err instanceof Error ? err.message : String(err);
    const delay = Math.min(this.opts.backoff?.maxMs ?? 60_000, (this.opts.backoff?.initialMs ?? 1_000) * 2 ** this.failures);
    this.failures++;
    this.lastError = { message, at: new Date().toISOString() };
    this.retryAt = Date.now() + delay;
    this.set('failed');
    this.logger.error('service failed; restarting after backoff', { err: message, retryInMs: delay });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      // one-per-cluster: only while the lease is still ours
      if (!this.active || (this.lease && !this.lease.holding)) return;
      this.restarts++;
      this.opts.onRestart?.(this.plugin.name, this.def.name);
      this.launch();
    }, delay);
    this.retryTimer.unref();
  }

  /** aborts the running instance and awaits its stop function */
  private async halt(): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const abort = this.abort;
    const stopFn = this.stopFn;
    this.abort = undefined;
    this.stopFn = undefined;
    if (!abort) return;
    abort.abort();
    this.reports.clear();
    const stop = await stopFn;
    if (!stop) return;
    try {
      await stop();
      this.logger.info('service stopped');
    } catch (err) {
      this.logger.warn('service did not stop cleanly', { err: String(err) });
    }
  }
}

function prefixed(logger: NodeLogger, fields: Record<string, unknown>): NodeLogger {
  return {
    debug: (msg, f) => logger.debug(msg, { ...fields, ...f }),
    info: (msg, f) => logger.info(msg, { ...fields, ...f }),
    warn: (msg, f) => logger.warn(msg, { ...fields, ...f }),
    error: (msg, f) => logger.error(msg, { ...fields, ...f }),
  };
}
