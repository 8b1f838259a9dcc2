/**
 * Missing services in e2e suites. A plain `npm test` on a laptop without PostgreSQL or NATS skips what
 * needs them and says so (a line per skip here, and a summary at the end of the run from
 * test/setup/services-teardown.ts). With ANCHORFLOW_REQUIRE_SERVICES=1 (CI, a machine that has the
 * services) a missing service fails the suite instead.
 */
import { appendFileSync } from 'node:fs';

export function servicesRequired(): boolean {
  return process.env.ANCHORFLOW_REQUIRE_SERVICES === '1';
}

/**
 * Call at module level when `suite` cannot run for want of `service`. Throws (the suite fails) when
 * services are required, unless the run chose to go without it (`deliberate`, e.g. E2E_DB=embedded).
 */
export function requireServiceOrSkip(suite: string, service: string, reason: string, options: { deliberate?: boolean } = {}): void {
  if (servicesRequired() && !options.deliberate) {
    throw new Error(`${suite} cannot run: ${reason}; ANCHORFLOW_REQUIRE_SERVICES=1 says this machine has ${service}: failing instead of skipping`);
  }
  console.warn(`SKIPPED ${suite} (${service}): ${reason}`);
  const log = process.env.AF_TEST_SKIP_LOG;
  if (log) appendFileSync(log, `${JSON.stringify({ service, suite, reason, pid: process.pid })}\n`);
}
