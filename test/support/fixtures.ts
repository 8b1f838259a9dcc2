/** Graph fixtures (`test/fixtures/*.workflow.json`), shared by the e2e suites and the benchmarks. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkflowJson } from './api.js';

export const FIXTURES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');

/** A fresh copy of `test/fixtures/<name>.workflow.json` (safe to modify). */
export function loadFixture(name: string): WorkflowJson {
  return JSON.parse(readFileSync(path.join(FIXTURES_DIR, `${name}.workflow.json`), 'utf8')) as WorkflowJson;
}
