// Minimal typings for the parts of `pg` this package uses (@types/pg is not installed).
// Kept out of the public API: nothing exported from this package mentions these types.
declare module 'pg' {
  export interface QueryResult<R = any> {
    rows: R[];
    rowCount: number | null;
  }
  export interface QueryConfig {
    text: string;
    values?: unknown[];
    /** a named statement is prepared once per connection */
    name?: string;
  }
  export interface ClientConfig {
    connectionString?: string;
    connectionTimeoutMillis?: number;
    keepAlive?: boolean;
    application_name?: string;
    query_timeout?: number;
    statement_timeout?: number;
  }
  export interface PoolConfig extends ClientConfig {
    max?: number;
    min?: number;
    idleTimeoutMillis?: number;
  }
  export class Client {
    constructor(config?: string | ClientConfig);
    connect(): Promise<void>;
    query<R = any>(query: string | QueryConfig, values?: unknown[]): Promise<QueryResult<R>>;
    end(): Promise<void>;
    on(event: 'error', listener: (err: Error) => void): this;
    escapeIdentifier(value: string): string;
  }
  export interface PoolClient extends Client {
    release(destroy?: boolean | Error): void;
  }
  export class Pool {
    constructor(config?: PoolConfig);
    connect(): Promise<PoolClient>;
    query<R = any>(query: string | QueryConfig, values?: unknown[]): Promise<QueryResult<R>>;
    end(): Promise<void>;
    on(event: 'error', listener: (err: Error, client: PoolClient) => void): this;
    on(event: 'connect', listener: (client: PoolClient) => void): this;
    readonly totalCount: number;
    readonly idleCount: number;
    readonly waitingCount: number;
  }
  const pg: { Pool: typeof Pool; Client: typeof Client };
  export default pg;
}
