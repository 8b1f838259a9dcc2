/**
 * Run-wide global setup (jest.config.js, both projects): names a file where suites note what they
 * skipped for a missing service (AF_TEST_SKIP_LOG), so services-teardown.ts can say so in one summary.
 * The file exists only once something was skipped (nothing is left behind by a run that skips nothing).
 * Self-contained (jest loads it without the moduleNameMapper).
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';

export default function servicesSetup(): void {
  process.env.AF_TEST_SKIP_LOG = path.join(os.tmpdir(), `af-test-skips-${process.pid}-${randomBytes(4).toString('hex')}.jsonl`);
  if (process.env.ANCHORFLOW_REQUIRE_SERVICES === '1') process.stdout.write('\n[tests] ANCHORFLOW_REQUIRE_SERVICES=1: a missing PostgreSQL or NATS fails the run\n');
}
