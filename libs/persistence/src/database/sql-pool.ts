import pg from 'pg';

export interface SqlResult<R> {
  rows: R[];
  rowCount: number | null;
}

export interface SqlStatement {
  text: string;
  values?: unknown[];
  /** prepared once per connection under this name (hot-path statements) */
  name?: string;
}

export interface SqlQueryable {
  query<R = Record<string, unknown>>(statement: string | SqlStatement, values?: unknown[]): Promise<SqlResult<R>>;
}

export interface SqlClient extends SqlQueryable {
  /** pass the error (or true) to discard a connection that may be broken instead of reusing it */
  release(destroy?: boolean | Error): void;
}

/**
 * The connection pool the adapters run their SQL on. Structurally a `pg.Pool`; declared here so the
 * package's public types do not depend on `pg` typings.
 */
export interface SqlPool extends SqlQueryable {
  connect(): Promise<SqlClient>;
  end(): Promise<void>;
}

export interface SqlPoolOptions {
  max?: number;
  applicationName?: string;
  /** idle connections dropped by the server (restart, pg_terminate_backend) are reported here */
  onError?: (error: Error) => void;
}

export function createSqlPool(url: string, options: SqlPoolOptions = {}): SqlPool {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    idleTimeoutMillis: 30_000,
    // an unreachable server must fail a flush quickly so durable() can report it, not hang it
    connectionTimeoutMillis: 5_000,
    keepAlive: true,
    application_name: options.applicationName ?? 'anchorflow',
  });
  // Without a listener an idle client's error event would be an uncaught exception.
  pool.on('error', (error) => options.onError?.(error));
  return pool;
}

/**
 * Runs `fn` in a transaction on one pooled connection. While the connection is checked out the pool
 * does not listen to it: a server that goes away between two statements (an outage, a restart) would
 * make its 'error' event an uncaught exception and end the process. Here it fails the transaction.
 */
export async function inTransaction<T>(pool: SqlPool, fn: (client: SqlClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let lost: Error | undefined;
  const onError = (error: Error): void => { lost = error; };
  (client as unknown as NodeJS.EventEmitter).on('error', onError);
  try {
    return await transaction(client, fn, () => lost);
  } finally {
    (client as unknown as NodeJS.EventEmitter).off('error', onError);
  }
}

async function transaction<T>(client: Awaited<ReturnType<SqlPool['connect']>>, fn: (client: SqlClient) => Promise<T>, lost: () => Error | undefined): Promise<T> {
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    client.release();
    return result;
  } catch (error) {
    const broken = lost();
    if (broken) {
      client.release(broken); // the connection is gone: the pool must not hand it out again
      throw error;
    }
    try {
      await client.query('ROLLBACK');
      client.release();
    } catch (rollbackError) {
      client.release(rollbackError as Error);
    }
    throw error;
  }
}
