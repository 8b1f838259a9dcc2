import { Injectable } from '@nestjs/common';

export interface ReadinessCheck {
  /** resolves when the dependency answers; throws (or times out) when it does not */
  check: () => Promise<unknown>;
  timeoutMs: number;
}

/**
 * Extra readiness indicators beside the database and NATS: each registered dependency becomes its own
 * indicator of GET /api/v1/health/ready (200 only when all are up; 503 names the failing ones).
 * Dependencies that are not configured simply never register, so they are left out cleanly.
 *
 * Checks the daemon makes itself at probe time. Plugins do not register here: their services report
 * through the SDK's `ctx.health` (chain RPCs, for one), which readiness lists from the service host.
 */
@Injectable()
export class ReadinessRegistry {
  private readonly checks = new Map<string, ReadinessCheck>();

  /** `name` is the indicator's key in the response (`chain:evm:local`); registering it again replaces it. */
  register(name: string, check: () => Promise<unknown>, options: { timeoutMs?: number } = {}): () => void {
    this.checks.set(name, { check, timeoutMs: options.timeoutMs ?? 3000 });
    return () => this.checks.delete(name);
  }

  entries(): Array<[string, ReadinessCheck]> {
    return [...this.checks];
  }
}
