/** Prints the summary of suites skipped for a missing service (see services-setup.ts) and removes its file. */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

export default function servicesTeardown(): void {
  const log = process.env.AF_TEST_SKIP_LOG;
  if (!log) return;
  const lines = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter((l) => l.trim()) : [];
  rmSync(log, { force: true });
  if (lines.length === 0) return;
  const entries = lines.map((l) => JSON.parse(l) as { service: string; suite?: string; reason: string; file?: string });
  const services = [...new Set(entries.map((e) => e.service))].join(', ');
  process.stdout.write(`\n[tests] SKIPPED for want of ${services}: ${entries.length} suite(s) — this run does not prove what they test\n`);
  for (const e of entries) process.stdout.write(`  - ${e.suite ?? (e.file ? path.basename(e.file) : '(a suite)')}: ${e.reason}\n`);
  process.stdout.write('  (ANCHORFLOW_REQUIRE_SERVICES=1 turns these skips into failures, as CI does)\n');
}
