import 'reflect-metadata';
import { Type } from 'class-transformer';
import { parseAllowHosts } from '@anchorflow/plugin-sdk';
import { ArrayNotContains, IsArray, IsBoolean, IsIn, IsObject, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength, ValidateBy, ValidateNested } from 'class-validator';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export class HttpConfig {
  @IsString() @MinLength(1)
  host!: string;

  @IsInt() @Min(0) @Max(65535)
  port!: number;

  /** body-parser size: a byte count or a number with b/kb/mb/gb */
  @Matches(/^\d+(\.\d+)?\s*(b|kb|mb|gb)?$/i, { message: 'bodyLimit must look like 512kb, 1mb or a byte count' })
  bodyLimit!: string;

  @IsInt() @Min(0) @Max(3_600_000)
  maxWaitMs!: number;

  /** deepest object/array nesting accepted in a JSON body */
  @IsInt() @Min(1) @Max(10_000)
  maxJsonDepth!: number;
}

export class DatabaseConfig {
  @IsOptional() @Matches(/^postgres(ql)?:\/\//, { message: 'url must be a postgres:// or postgresql:// URL' })
  url?: string;

  @IsOptional() @IsInt() @Min(0) @Max(65535)
  embeddedPort?: number;
}

export class NatsConfig {
  @IsOptional() @Matches(/^(nats|tls|wss?):\/\//, { message: 'url must be a nats://, tls:// or ws(s):// URL' })
  url?: string;

  /** subject/stream prefix (several installations on one NATS); workers must use the same */
  @Matches(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, { message: 'prefix must be dot-separated tokens of letters, digits, _ and -' })
  prefix!: string;
}

/** Several daemons on one database: each execution is owned by one daemon through a lease. */
export class ClusterConfig {
  /** a lease not renewed for this long lets another daemon take the execution over (renewed every leaseMs/3) */
  @IsInt() @Min(1000) @Max(3_600_000)
  leaseMs!: number;
}

/** Plugin workers over NATS (cluster mode); unused without nats.url. */
export class WorkersConfig {
  /** a node whose type has no live worker waits (status waiting) this long, then fails NO_WORKER */
  @IsInt() @Min(0)
  waitForWorkerMs!: number;

  /** a waiting node is re-dispatched at least this often even without an announcement */
  @IsInt() @Min(1000)
  recheckMs!: number;

  /** at start, how long to collect worker announcements before resuming executions */
  @IsInt() @Min(0) @Max(60_000)
  discoveryWindowMs!: number;

  /** jobs in flight look for a missed result this often (and after every reconnect) */
  @IsInt() @Min(1000)
  resultSweepMs!: number;
}

export class EngineConfig {
  @IsInt() @Min(1)
  maxConcurrentNodes!: number;

  @IsInt() @Min(1)
  maxConcurrentNodesPerExecution!: number;

  @IsInt() @Min(1)
  expressionTimeoutMs!: number;

  @IsInt() @Min(1)
  maxNodes!: number;

  @IsInt() @Min(0)
  wakeUpHorizonMs!: number;

  @IsInt() @Min(10)
  pollIntervalMs!: number;

  /** total serialized output one execution may store (all nodes); 0 = no quota (issue 17) */
  @IsInt() @Min(0)
  maxExecutionOutputBytes!: number;
}

export class HooksConfig {
  @IsInt() @Min(0)
  responseTimeoutMs!: number;
}

export class LogConfig {
  @IsIn(LOG_LEVELS)
  level!: LogLevel;

  @IsBoolean()
  pretty!: boolean;

  @IsBoolean()
  requests!: boolean;
}

/** The hash-chained audit log (apps/daemon/src/audit): entries are buffered and written in batches. */
export class AuditConfig {
  /** most entries in one INSERT (one transaction) */
  @IsInt() @Min(1) @Max(50_000)
  maxBatch!: number;

  /** entries held in memory while the database does not take them; beyond, new ones are dropped and counted (logged, metric) */
  @IsInt() @Min(1000)
  maxPending!: number;

  /** how long a batch waits for more entries when no API call waits for it (ms); 0 → the next event-loop turn */
  @IsInt() @Min(0) @Max(1000)
  lingerMs!: number;

  /** anchor the log's head on receipts.network this often; null → 1 h when receipts.network is set; 0 → never */
  @IsOptional() @IsInt() @Min(0) @Max(30 * 86_400_000)
  anchorEveryMs?: number | null;
}

/** Verifiable execution receipts (apps/daemon/src/receipts): off unless a chain-anchor network is named. */
export class ReceiptsConfig {
  @IsOptional() @IsString() @Matches(/^[a-z0-9][a-z0-9_-]{0,62}$/, { message: 'network must be a network name of pluginConfig.chain-anchor.chains' })
  network?: string | null;
}

/** Prometheus exposition at GET /metrics (outside /api/v1). */
export class MetricsConfig {
  @IsBoolean()
  enabled!: boolean;

  /** when set, /metrics wants `Authorization: Bearer <token>` (a secret: ANCHORFLOW_METRICS_TOKEN) */
  @IsOptional() @IsString() @MinLength(16, { message: 'token must be at least 16 characters' })
  token?: string;

  /**
   * true: /metrics answers without a token (when none is set). false (default): without `token` every
   * scrape is refused (401) — metrics show workflow names, node types and plugin names (issue 17).
   */
  @IsBoolean()
  public!: boolean;
}

export class ShutdownConfig {
  /** SIGTERM → exit: engine stopped, in-flight nodes handed back, store and audit flushed, DB closed; past this the process exits 1 */
  @IsInt() @Min(1000) @Max(600_000)
  timeoutMs!: number;
}

/** Background pruning of finished executions (and their events); unset limits keep everything. */
export class RetentionConfig {
  /** finished executions older than this many days are deleted */
  @IsOptional() @IsInt() @Min(1)
  maxAgeDays?: number;

  /** only the newest this-many finished executions of each workflow are kept */
  @IsOptional() @IsInt() @Min(1)
  maxPerWorkflow?: number;

  /** how often the pruner runs */
  @IsInt() @Min(1000)
  intervalMs!: number;

  /** executions deleted per transaction */
  @IsInt() @Min(1) @Max(10_000)
  batchSize!: number;
}

/** One rate limit (@nestjs/throttler), counted per client IP. */
export class RateLimitRule {
  /** requests per window; 0 switches the limit off */
  @IsInt() @Min(0)
  limit!: number;

  @IsInt() @Min(1000) @Max(86_400_000)
  ttlMs!: number;
}

export class RateLimitConfig {
  /** POST /api/v1/auth/token */
  @IsObject() @ValidateNested() @Type(() => RateLimitRule)
  auth!: RateLimitRule;

  /** /hooks/* (webhook triggers) */
  @IsObject() @ValidateNested() @Type(() => RateLimitRule)
  hooks!: RateLimitRule;
}

/**
 * API keys, editor tokens, rate limits, CORS (apps/daemon/src/security). The secrets themselves
 * (ANCHORFLOW_ADMIN_KEY, ANCHORFLOW_JWT_SECRET, ANCHORFLOW_MASTER_KEY) are read from the environment
 * only and are not part of this object.
 */
export class SecurityConfig {
  /** browser origins allowed to call the API (`https://editor.example.com`); empty → no CORS headers at all */
  @IsArray() @Matches(/^https?:\/\/[^/\s?#*]+$/, { each: true, message: 'corsOrigins must be origins like https://editor.example.com (scheme://host[:port], no path, no wildcard)' })
  corsOrigins!: string[];

  /** lifetime of editor tokens from POST /api/v1/auth/token */
  @IsInt() @Min(60) @Max(86_400)
  tokenTtlSeconds!: number;

  /** how long a verified API key is trusted without a database lookup (a revocation elsewhere takes this long) */
  @IsInt() @Min(0) @Max(60_000)
  keyCacheMs!: number;

  @IsObject() @ValidateNested() @Type(() => RateLimitConfig)
  rateLimit!: RateLimitConfig;

  /**
   * reverse proxies whose X-Forwarded-For is believed (Express `trust proxy`): addresses, CIDR ranges or
   * `loopback` / `linklocal` / `uniquelocal`, comma-separated; unset → none, the client is the socket's
   * peer. Rate limits, audit entries and auth logs use the client address this yields.
   */
  @IsOptional() @Matches(/^\s*(loopback|linklocal|uniquelocal|[0-9a-fA-F:.]+(\/\d{1,3})?)(\s*,\s*(loopback|linklocal|uniquelocal|[0-9a-fA-F:.]+(\/\d{1,3})?))*\s*$/, { message: 'trustProxy must be comma-separated addresses, CIDR ranges or loopback/linklocal/uniquelocal (not "true": that would believe any client)' })
  trustProxy?: string;
}

/**
 * Outbound HTTP of plugins (ctx.fetch, the SSRF guard): loopback, private, link-local and ULA ranges and
 * the daemon's own ports are refused unless listed here. See docs/security.md.
 */
export class OutboundConfig {
  /** host names (`api.internal`, `*.corp.example`), addresses and CIDR ranges plugins may reach although private */
  @IsArray()
  @ValidateBy({
    name: 'allowHosts',
    validator: {
      validate: (value: unknown) => Array.isArray(value) && value.every((v) => typeof v === 'string') && (() => { try { parseAllowHosts(value as string[]); return true; } catch { return false; } })(),
      defaultMessage: (args) => {
        try {
          parseAllowHosts((args?.value ?? []) as string[]);
          return 'allowHosts must be a list of strings';
        } catch (err) {
          return (err as Error).message.replace(/^outbound\.allowHosts: /, 'allowHosts: ');
        }
      },
    },
  })
  allowHosts!: string[];
}

/** The daemon's whole configuration, validated at start-up (see config/default.yaml). */
export class AnchorflowConfig {
  @IsObject() @ValidateNested() @Type(() => HttpConfig)
  http!: HttpConfig;

  @IsString() @MinLength(1)
  dataDir!: string;

  /** stable id of this daemon (NATS results and requests are addressed to it); unset → <dataDir>/daemon-id */
  @IsOptional() @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'daemonId must be 1-64 letters, digits, _ or -' })
  daemonId?: string;

  /** plugin packages (names or paths) loaded in addition to the built-in core plugin */
  @IsArray() @IsString({ each: true }) @MinLength(1, { each: true })
  plugins!: string[];

  /**
   * each plugin's own config section, by the plugin's short name (`@anchorflow/plugin-example` →
   * `example`); checked by the plugin's config DTO when it loads (a bad section fails that plugin)
   */
  @IsOptional() @IsObject()
  pluginConfig?: Record<string, Record<string, unknown>>;
  /** built-in plugins not run by this daemon (workers serve their types); never @anchorflow/plugin-core */
  @IsArray() @IsString({ each: true }) @MinLength(1, { each: true })
  @ArrayNotContains(['@anchorflow/plugin-core'], { message: 'disabledBuiltInPlugins cannot contain @anchorflow/plugin-core (its triggers run in the daemon)' })
  disabledBuiltInPlugins!: string[];

  @IsObject() @ValidateNested() @Type(() => DatabaseConfig)
  database!: DatabaseConfig;

  @IsObject() @ValidateNested() @Type(() => NatsConfig)
  nats!: NatsConfig;

  @IsObject() @ValidateNested() @Type(() => WorkersConfig)
  workers!: WorkersConfig;

  @IsObject() @ValidateNested() @Type(() => ClusterConfig)
  cluster!: ClusterConfig;

  @IsObject() @ValidateNested() @Type(() => EngineConfig)
  engine!: EngineConfig;

  @IsObject() @ValidateNested() @Type(() => HooksConfig)
  hooks!: HooksConfig;

  @IsObject() @ValidateNested() @Type(() => LogConfig)
  log!: LogConfig;

  @IsObject() @ValidateNested() @Type(() => AuditConfig)
  audit!: AuditConfig;

  @IsObject() @ValidateNested() @Type(() => ReceiptsConfig)
  receipts!: ReceiptsConfig;

  @IsObject() @ValidateNested() @Type(() => MetricsConfig)
  metrics!: MetricsConfig;

  @IsObject() @ValidateNested() @Type(() => ShutdownConfig)
  shutdown!: ShutdownConfig;

  @IsObject() @ValidateNested() @Type(() => RetentionConfig)
  retention!: RetentionConfig;

  @IsObject() @ValidateNested() @Type(() => SecurityConfig)
  security!: SecurityConfig;

  @IsObject() @ValidateNested() @Type(() => OutboundConfig)
  outbound!: OutboundConfig;
}

/** Every known key with the type env strings are coerced to. Env names derive from these paths. */
export const CONFIG_KEYS: ReadonlyArray<{ path: string; type: 'string' | 'number' | 'boolean' | 'list' }> = [
  { path: 'http.host', type: 'string' },
  { path: 'http.port', type: 'number' },
  { path: 'http.bodyLimit', type: 'string' },
  { path: 'http.maxWaitMs', type: 'number' },
  { path: 'http.maxJsonDepth', type: 'number' },
  { path: 'dataDir', type: 'string' },
  { path: 'database.url', type: 'string' },
  { path: 'database.embeddedPort', type: 'number' },
  { path: 'nats.url', type: 'string' },
  { path: 'nats.prefix', type: 'string' },
  { path: 'daemonId', type: 'string' },
  { path: 'plugins', type: 'list' },
  { path: 'disabledBuiltInPlugins', type: 'list' },
  { path: 'workers.waitForWorkerMs', type: 'number' },
  { path: 'workers.recheckMs', type: 'number' },
  { path: 'workers.discoveryWindowMs', type: 'number' },
  { path: 'workers.resultSweepMs', type: 'number' },
  { path: 'cluster.leaseMs', type: 'number' },
  { path: 'engine.maxConcurrentNodes', type: 'number' },
  { path: 'engine.maxConcurrentNodesPerExecution', type: 'number' },
  { path: 'engine.expressionTimeoutMs', type: 'number' },
  { path: 'engine.maxNodes', type: 'number' },
  { path: 'engine.wakeUpHorizonMs', type: 'number' },
  { path: 'engine.pollIntervalMs', type: 'number' },
  { path: 'engine.maxExecutionOutputBytes', type: 'number' },
  { path: 'hooks.responseTimeoutMs', type: 'number' },
  { path: 'log.level', type: 'string' },
  { path: 'log.pretty', type: 'boolean' },
  { path: 'log.requests', type: 'boolean' },
  { path: 'audit.maxBatch', type: 'number' },
  { path: 'audit.maxPending', type: 'number' },
  { path: 'audit.lingerMs', type: 'number' },
  { path: 'audit.anchorEveryMs', type: 'number' },
  { path: 'receipts.network', type: 'string' },
  { path: 'metrics.enabled', type: 'boolean' },
  { path: 'metrics.token', type: 'string' },
  { path: 'metrics.public', type: 'boolean' },
  { path: 'shutdown.timeoutMs', type: 'number' },
  { path: 'retention.maxAgeDays', type: 'number' },
  { path: 'retention.maxPerWorkflow', type: 'number' },
  { path: 'retention.intervalMs', type: 'number' },
  { path: 'retention.batchSize', type: 'number' },
  { path: 'security.corsOrigins', type: 'list' },
  { path: 'security.tokenTtlSeconds', type: 'number' },
  { path: 'security.keyCacheMs', type: 'number' },
  { path: 'security.rateLimit.auth.limit', type: 'number' },
  { path: 'security.rateLimit.auth.ttlMs', type: 'number' },
  { path: 'security.rateLimit.hooks.limit', type: 'number' },
  { path: 'security.rateLimit.hooks.ttlMs', type: 'number' },
  { path: 'security.trustProxy', type: 'string' },
  { path: 'outbound.allowHosts', type: 'list' },
];

/** Conventional variables (12-factor style) and the key each one sets. */
export const CONVENTIONAL_ENV: Readonly<Record<string, string>> = {
  PORT: 'http.port',
  HOST: 'http.host',
  DATABASE_URL: 'database.url',
  NATS_URL: 'nats.url',
};

/** Keys whose values are secrets: never logged as they are. */
export const SECRET_KEYS: ReadonlySet<string> = new Set(['database.url', 'nats.url', 'metrics.token']);

/** Secrets read from the environment only, never part of the (logged) configuration: see apps/daemon/src/security/key-material.ts. */
export const SECRET_ENV_VARS: readonly string[] = ['ANCHORFLOW_ADMIN_KEY', 'ANCHORFLOW_JWT_SECRET', 'ANCHORFLOW_MASTER_KEY', 'ANCHORFLOW_AUDIT_KEY'];
