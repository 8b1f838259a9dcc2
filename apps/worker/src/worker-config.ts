/** Worker settings, from the environment only (a worker has no other config). */
export interface WorkerConfig {
  natsUrl: string;
  /** plugin package names or paths, loaded in order */
  plugins: string[];
  /** relative plugin paths are resolved from here */
  pluginsBaseDir: string;
  concurrency: number;
  workerId?: string;
  natsPrefix: string;
  ackWaitMs: number;
  maxDeliver: number;
  heartbeatMs: number;
  shutdownTimeoutMs: number;
  rpcTimeoutMs: number;
  reconnectWaitMs: number;
  logLevel: string;
  /** plugin config sections by short name (ANCHORFLOW_WORKER_PLUGIN_CONFIG, JSON); absent: every plugin gets its defaults */
  pluginConfig?: Record<string, unknown>;
  /** lease of the one-per-cluster services this worker runs (ANCHORFLOW_WORKER_SERVICE_LEASE_MS); absent: 15000 */
  serviceLeaseMs?: number;
  /** where GET /metrics answers (ANCHORFLOW_WORKER_METRICS_PORT, 0 = any free port); absent: no endpoint */
  metrics?: { port: number; host: string };
}

export const DEFAULT_SERVICE_LEASE_MS = 15_000;

export const DEFAULT_WORKER_PLUGINS = ['@anchorflow/plugin-core'];

/**
 * | variable | default |
 * |---|---|
 * | `NATS_URL` (or `ANCHORFLOW_NATS_URL`) | required |
 * | `ANCHORFLOW_WORKER_PLUGINS` | `@anchorflow/plugin-core` (comma-separated names or paths) |
 * | `ANCHORFLOW_WORKER_PLUGINS_DIR` | current directory (base of relative plugin paths and package lookup) |
 * | `ANCHORFLOW_WORKER_CONCURRENCY` | 4 |
 * | `ANCHORFLOW_WORKER_ID` | `<hostname>-<pid>` |
 * | `ANCHORFLOW_NATS_PREFIX` | `anchorflow` |
 * | `ANCHORFLOW_WORKER_ACK_WAIT_MS` | 30000 |
 * | `ANCHORFLOW_WORKER_MAX_DELIVER` | 5 |
 * | `ANCHORFLOW_WORKER_HEARTBEAT_MS` | 5000 |
 * | `ANCHORFLOW_WORKER_SHUTDOWN_TIMEOUT_MS` | 20000 |
 * | `ANCHORFLOW_OUTBOUND_ALLOW_HOSTS` | none: private/loopback destinations refused by ctx.fetch (comma-separated host names, addresses, CIDR ranges; docs/security.md) |
 * | `ANCHORFLOW_WORKER_RPC_TIMEOUT_MS` | 10000 |
 * | `ANCHORFLOW_NATS_RECONNECT_WAIT_MS` | 1000 |
 * | `ANCHORFLOW_LOG_LEVEL` (or `LOG_LEVEL`) | info |
 * | `ANCHORFLOW_WORKER_PLUGIN_CONFIG` | none: a JSON object of plugin config sections by short name, e.g. `{"example":{"tickIntervalMs":1000}}` |
 * | `ANCHORFLOW_WORKER_SERVICE_LEASE_MS` | 15000 (lease of one-per-cluster plugin services run here) |
 * | `ANCHORFLOW_WORKER_METRICS_PORT` | none: no endpoint. Set, `GET /metrics` answers there (Prometheus: the plugins' ctx.metrics and process metrics) |
 * | `ANCHORFLOW_WORKER_METRICS_HOST` | 127.0.0.1 |
 * Throws once, listing every bad variable.
 */
export function workerConfigFromEnv(env: NodeJS.ProcessEnv, cwd = process.cwd()): WorkerConfig {
  const problems: string[] = [];
  const int = (name: string, def: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return def;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name} must be an integer between ${min} and ${max} (got "${raw}")`);
      return def;
    }
    return n;
  };
  const natsUrl = (env.NATS_URL ?? env.ANCHORFLOW_NATS_URL ?? '').trim();
  if (!natsUrl) problems.push('NATS_URL is required: the worker takes its jobs from NATS (e.g. NATS_URL=nats://127.0.0.1:4222)');
  const plugins = (env.ANCHORFLOW_WORKER_PLUGINS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const workerId = env.ANCHORFLOW_WORKER_ID?.trim() || undefined;
  if (workerId && !/^[A-Za-z0-9_-]+$/.test(workerId)) problems.push(`ANCHORFLOW_WORKER_ID may only hold letters, digits, _ and - (got "${workerId}")`);
  const natsPrefix = env.ANCHORFLOW_NATS_PREFIX?.trim() || 'anchorflow';
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(natsPrefix)) problems.push(`ANCHORFLOW_NATS_PREFIX must be dot-separated tokens of letters, digits, _ and - (got "${natsPrefix}")`);
  const logLevel = (env.ANCHORFLOW_LOG_LEVEL ?? env.LOG_LEVEL ?? 'info').trim();
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) problems.push(`ANCHORFLOW_LOG_LEVEL must be fatal, error, warn, info, debug, trace or silent (got "${logLevel}")`);
  let pluginConfig: Record<string, unknown> | undefined;
  const rawPluginConfig = env.ANCHORFLOW_WORKER_PLUGIN_CONFIG?.trim();
  if (rawPluginConfig) {
    try {
      const parsed: unknown = JSON.parse(rawPluginConfig);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
      pluginConfig = parsed as Record<string, unknown>;
    } catch (err) {
      problems.push(`ANCHORFLOW_WORKER_PLUGIN_CONFIG must be a JSON object of sections by plugin short name (${(err as Error).message})`);
    }
  }
  const serviceLeaseMs = env.ANCHORFLOW_WORKER_SERVICE_LEASE_MS?.trim() ? int('ANCHORFLOW_WORKER_SERVICE_LEASE_MS', DEFAULT_SERVICE_LEASE_MS, 1000, 3_600_000) : undefined;
  const metricsPort = env.ANCHORFLOW_WORKER_METRICS_PORT?.trim() ? int('ANCHORFLOW_WORKER_METRICS_PORT', 0, 0, 65_535) : undefined;
  const config: WorkerConfig = {
    natsUrl,
    plugins: plugins.length ? plugins : DEFAULT_WORKER_PLUGINS,
    pluginsBaseDir: env.ANCHORFLOW_WORKER_PLUGINS_DIR?.trim() || cwd,
    concurrency: int('ANCHORFLOW_WORKER_CONCURRENCY', 4, 1, 10_000),
    ...(workerId ? { workerId } : {}),
    natsPrefix,
    ackWaitMs: int('ANCHORFLOW_WORKER_ACK_WAIT_MS', 30_000, 1000, 3_600_000),
    maxDeliver: int('ANCHORFLOW_WORKER_MAX_DELIVER', 5, 1, 1000),
    heartbeatMs: int('ANCHORFLOW_WORKER_HEARTBEAT_MS', 5000, 100, 600_000),
    shutdownTimeoutMs: int('ANCHORFLOW_WORKER_SHUTDOWN_TIMEOUT_MS', 20_000, 0, 3_600_000),
    rpcTimeoutMs: int('ANCHORFLOW_WORKER_RPC_TIMEOUT_MS', 10_000, 100, 600_000),
    reconnectWaitMs: int('ANCHORFLOW_NATS_RECONNECT_WAIT_MS', 1000, 10, 60_000),
    logLevel,
    ...(pluginConfig ? { pluginConfig } : {}),
    ...(serviceLeaseMs !== undefined ? { serviceLeaseMs } : {}),
    ...(metricsPort !== undefined ? { metrics: { port: metricsPort, host: env.ANCHORFLOW_WORKER_METRICS_HOST?.trim() || '127.0.0.1' } } : {}),
  };
  if (problems.length) throw new Error(`invalid worker configuration:\n  - ${problems.join('\n  - ')}`);
  return config;
}
