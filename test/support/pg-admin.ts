/**
 * Minimal access to a PostgreSQL server for the e2e run: create the databases the daemons use
 * (global teardown drops them).
 * `pg` ships no type declarations here (no @types/pg), so it is imported through a variable specifier
 * and wrapped in the few typed calls we need.
 */
interface PgClient {
  connect(): Promise<void>;
  query(sql: string, params?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
  end(): Promise<void>;
  on(event: 'error', listener: (err: Error) => void): void;
}
type PgClientCtor = new (config: { connectionString: string; connectionTimeoutMillis?: number }) => PgClient;

let clientCtor: PgClientCtor | undefined;
async function pgClientCtor(): Promise<PgClientCtor> {
  if (!clientCtor) {
    const specifier = 'pg';
    const mod = (await import(specifier)) as { default?: { Client: PgClientCtor }; Client?: PgClientCtor };
    const ctor = mod.Client ?? mod.default?.Client;
    if (!ctor) throw new Error('the pg module has no Client export');
    clientCtor = ctor;
  }
  return clientCtor;
}

export async function withClient<T>(url: string, fn: (client: PgClient) => Promise<T>): Promise<T> {
  const Client = await pgClientCtor();
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => { /* a dropped connection surfaces as a rejected query */ });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The same server URL pointing at another database. */
export function databaseUrl(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

const SAFE_NAME = /^[a-z_][a-z0-9_]*$/;

export async function createDatabase(serverUrl: string, name: string): Promise<string> {
  if (!SAFE_NAME.test(name)) throw new Error(`unsafe database name ${name}`);
  await withClient(serverUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  return databaseUrl(serverUrl, name);
}
