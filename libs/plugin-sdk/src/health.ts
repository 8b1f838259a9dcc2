/**
 * Health a plugin service reports about the outside things it depends on (a chain's RPC URLs, a mail
 * relay): the daemon lists every report in its readiness (`GET /api/v1/health/ready`) as
 * `<plugin short name>:<name>`. `ok` and `degraded` keep the daemon ready (200; degraded names what
 * failed); `down` makes readiness answer 503. Reports are snapshots kept by the host: readiness never calls
 * out to the dependency itself, so a slow RPC cannot slow or time out the probe. A report disappears when
 * its service stops, fails or moves to another process.
 */
export type HealthState = 'ok' | 'degraded' | 'down';

export interface HealthComponent {
  state: HealthState;
  /** why (the last error), for a human */
  detail?: string;
}

export interface HealthReport {
  state: HealthState;
  /** one line for a human: which endpoint failed and why */
  detail?: string;
  /** the parts this report sums up (e.g. each RPC URL), each with its own state */
  components?: Record<string, HealthComponent>;
}

export interface ServiceHealth {
  /** reports (or replaces) the state of one dependency, e.g. `network:local`; names: letters, digits, `.:_-` */
  report(name: string, report: HealthReport): void;
  /** withdraws a report (the dependency is no longer used) */
  clear(name: string): void;
}

export const noopHealth: ServiceHealth = {
  report: () => undefined,
  clear: () => undefined,
};

export const HEALTH_NAME_RE = /^[A-Za-z0-9][\w.:-]{0,127}$/;

export interface EndpointsHealthOptions {
  /** consecutive failures before an endpoint counts as failed (default 2: one slow answer does not flap) */
  failAfter?: number;
  /** consecutive successes before a failed endpoint counts as ok again (default 1) */
  recoverAfter?: number;
}

/**
 * The state of a set of interchangeable endpoints (several RPC URLs for one network, or a primary and a
 * fallback): every endpoint ok → `ok`; some failed → `degraded`, naming which; all failed → `down`.
 * An endpoint changes state only after `failAfter` failures (or `recoverAfter` successes) in a row, so a
 * single timeout does not flip the report back and forth. Feed it from the calls the service makes anyway
 * or from a periodic probe, then `ctx.health.report(name, endpoints.report())`.
 */
export class EndpointsHealth {
  private readonly endpoints = new Map<string, { failed: boolean; streak: number; lastError?: string }>();
  private readonly failAfter: number;
  private readonly recoverAfter: number;

  /** `endpoints`: labels as they should appear in the report (URLs without credentials) */
  constructor(endpoints: readonly string[], opts: EndpointsHealthOptions = {}) {
    for (const e of endpoints) this.endpoints.set(e, { failed: false, streak: 0 });
    this.failAfter = Math.max(1, opts.failAfter ?? 2);
    this.recoverAfter = Math.max(1, opts.recoverAfter ?? 1);
  }

  /** the endpoint answered; returns true when its state changed */
  succeeded(endpoint: string): boolean {
    const e = this.entry(endpoint);
    if (!e.failed) {
      e.streak = 0;
      return false;
    }
    e.streak++;
    if (e.streak < this.recoverAfter) return false;
    e.failed = false;
    e.streak = 0;
    delete e.lastError;
    return true;
  }

  /** the endpoint failed (timeout, refused, garbage); returns true when its state changed */
  failed(endpoint: string, error: unknown): boolean {
    const e = this.entry(endpoint);
    e.lastError = error instanceof Error ? error.message : String(error);
    if (e.failed) {
      e.streak = 0;
      return false;
    }
    e.streak++;
    if (e.streak < this.failAfter) return false;
    e.failed = true;
    e.streak = 0;
    return true;
  }

  report(): HealthReport {
    const components: Record<string, HealthComponent> = {};
    const failed: string[] = [];
    for (const [name, e] of this.endpoints) {
      components[name] = e.failed ? { state: 'down', ...(e.lastError ? { detail: e.lastError } : {}) } : { state: 'ok' };
      if (e.failed) failed.push(name);
    }
    if (failed.length === 0) return { state: 'ok', components };
    const why = failed.map((f) => `${f} (${this.endpoints.get(f)!.lastError ?? 'failed'})`).join('; ');
    if (failed.length === this.endpoints.size) return { state: 'down', detail: `every endpoint failed: ${why}`, components };
    return { state: 'degraded', detail: `failing: ${why}`, components };
  }

  private entry(endpoint: string) {
    let e = this.endpoints.get(endpoint);
    if (!e) {
      e = { failed: false, streak: 0 };
      this.endpoints.set(endpoint, e);
    }
    return e;
  }
}
