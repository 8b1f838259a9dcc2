import { randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import pg, { type Client } from 'pg';

export interface TestDatabase {
  /** connection URL of a fresh, empty database */
  url: string;
  /** drops the database (terminating leftover connections) */
  drop(): Promise<void>;
}

export const DEFAULT_TEST_SERVER_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * Creates `af_test_<random>` on the server at PG_TEST_URL (default: trust auth on 127.0.0.1:5432).
 * Resolves undefined, printing why, when no server answers, so suites can skip instead of failing —
 * unless ANCHORFLOW_REQUIRE_SERVICES=1 (CI, a machine that has PostgreSQL): then it throws, and the
 * suite fails. A skip is also noted for the run's summary (see `noteSkippedSuite`).
 */
export async function createTestDatabase(): Promise<TestDatabase | undefined> {
  const serverUrl = process.env.PG_TEST_URL ?? DEFAULT_TEST_SERVER_URL;
  const name = `af_test_${randomBytes(6).toString('hex')}`;
  try {
    await withAdmin(serverUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  } catch (error) {
    const why = `no usable PostgreSQL at ${redact(serverUrl)} (${(error as Error).message})`;
    if (process.env.ANCHORFLOW_REQUIRE_SERVICES === '1') throw new Error(`${why}, and ANCHORFLOW_REQUIRE_SERVICES=1 says this machine has it: failing instead of skipping`, { cause: error });
    noteSkippedSuite('PostgreSQL', `${why}; database tests are skipped. Set PG_TEST_URL to run them`);
    return undefined;
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => withAdmin(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

async function withAdmin<T>(serverUrl: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 3_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(invalid PG_TEST_URL)';
  }
}

/**
 * Prints why a suite is skipped for a missing service and, when the run collects them (AF_TEST_SKIP_LOG,
 * set by test/setup/services-setup.ts), adds a line for the summary printed at the end of the run.
 * Kept in step with the copy in libs/transport/src/nats/spec-support/nats-test-server.ts.
 */
export function noteSkippedSuite(service: string, reason: string): void {
  console.warn(`SKIPPED (${service}): ${reason}`);
  const log = process.env.AF_TEST_SKIP_LOG;
  if (log) appendFileSync(log, `${JSON.stringify({ service, reason, pid: process.pid, file: currentTestFile() })}\n`);
}

/** the spec file jest is running, when jest's globals are there */
export function currentTestFile(): string | undefined {
  const jestExpect = (globalThis as { expect?: { getState?: () => { testPath?: string } } }).expect;
  return jestExpect?.getState?.().testPath;
}
