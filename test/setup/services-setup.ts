/**
 * Run-wide global setup (jest.config.js, both projects): a file where suites note what they skipped for
 * a missing service (AF_TEST_SKIP_LOG), so services-teardown.ts can say so in one summary. Self-contained
 * (jest loads it without the moduleNameMapper).
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export default function servicesSetup(): void {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'af-test-skips-'));
  process.env.AF_TEST_SKIP_LOG = path.join(dir, 'skips.jsonl');
  if (process.env.ANCHORFLOW_REQUIRE_SERVICES === '1') process.stdout.write('\n[tests] ANCHORFLOW_REQUIRE_SERVICES=1: a missing PostgreSQL or NATS fails the run\n');
}
