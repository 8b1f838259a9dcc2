import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { type NodeLogger, pluginShortName, validatePluginConfig } from '@anchorflow/plugin-sdk';
import { type HostedPlugin, loadPlugins, pluginMetricsOn, ServiceHost, WorkerRuntime } from '@anchorflow/plugin-host';
import { connectNats, natsNames, remoteServicePorts } from '@anchorflow/transport';
import { DEFAULT_SERVICE_LEASE_MS, type WorkerConfig, workerConfigFromEnv } from './worker-config.js';

function nodeLoggerOf(log: pino.Logger): NodeLogger {
  return {
    debug: (msg, fields) => log.debug(fields ?? {}, msg),
    info: (msg, fields) => log.info(fields ?? {}, msg),
    warn: (msg, fields) => log.warn(fields ?? {}, msg),
    error: (msg, fields) => log.error(fields ?? {}, msg),
  };
}

/** Loads the plugins, connects to NATS (forever), serves jobs; SIGTERM/SIGINT stop it gracefully. */
export async function runWorker(env: NodeJS.ProcessEnv): Promise<void> {
  let config: WorkerConfig;
  try {
    config = workerConfigFromEnv(env);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  const log = pino({ level: config.logLevel, base: { service: 'anchorflow-worker', pid: process.pid, ...(config.workerId ? { workerId: config.workerId } : {}) } });
  const logger = nodeLoggerOf(log);
  process.on('unhandledRejection', (err) => log.error({ err: String(err) }, 'unhandled rejection'));

  const here = dirname(fileURLToPath(import.meta.url));
  const { plugins, failures } = await loadPlugins(config.plugins, { baseDir: config.pluginsBaseDir, searchDirs: [here], logger });
  if (!plugins.length) {
    log.fatal({ failures }, 'no plugin could be loaded; nothing to serve');
    process.exit(1);
  }
  if (failures.length) log.warn({ failed: failures.map((f) => f.spec) }, 'some plugins were not loaded; serving the others');

  const nc = await connectNats({ url: config.natsUrl, name: `anchorflow-worker-${config.workerId ?? process.pid}`, reconnectTimeWaitMs: config.reconnectWaitMs });
  log.info({ server: nc.getServer() }, 'connected to NATS');
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') log.warn({ server: String(s.data) }, 'NATS disconnected; reconnecting');
      else if (s.type === 'reconnect') log.info({ server: String(s.data) }, 'NATS reconnected');
      else if (s.type === 'error') log.error({ err: String(s.data) }, 'NATS error');
    }
  })().catch(() => undefined);

  // the plugins' ctx.metrics of this process, served on its own /metrics when a port is configured
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const pluginMetrics = pluginMetricsOn(registry);

  const runtime = new WorkerRuntime({
    nc,
    plugins,
    metrics: pluginMetrics,
    ...(config.workerId ? { workerId: config.workerId } : {}),
    prefix: config.natsPrefix,
    concurrency: config.concurrency,
    ackWaitMs: config.ackWaitMs,
    maxDeliver: config.maxDeliver,
    heartbeatMs: config.heartbeatMs,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    rpcTimeoutMs: config.rpcTimeoutMs,
    logger,
  });

  // plugin services run here as in a daemon; state, leases and resume go to the daemons over NATS
  const hosted: HostedPlugin[] = [];
  for (const p of plugins) {
    if (!p.plugin.services?.length) continue;
    const short = pluginShortName(p.packageName);
    const { value, problems } = validatePluginConfig(p.plugin.config, config.pluginConfig?.[short]);
    if (problems.length) {
      log.error({ plugin: p.packageName, problems }, `services of ${p.packageName} not started: invalid config section ${short}: ${problems.map((x) => `${short}${x.path.slice(1)} ${x.message}`).join('; ')}`);
      continue;
    }
    hosted.push({ name: p.packageName, definition: p.plugin, config: value });
  }
  const services = new ServiceHost({
    ...remoteServicePorts({ nc, names: natsNames(config.natsPrefix), timeoutMs: config.rpcTimeoutMs }),
    plugins: hosted,
    now: () => Date.now(),
    metrics: pluginMetrics,
    logger,
    holder: runtime.workerId,
    leaseMs: config.serviceLeaseMs ?? DEFAULT_SERVICE_LEASE_MS,
  });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) {
      log.warn({ signal }, 'second signal; exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'stopping: no new jobs, finishing those in flight');
    try {
      await services.stop();
      await runtime.stop();
      metricsServer?.close();
      await nc.drain();
    } catch (err) {
      log.error({ err: String(err) }, 'error while stopping');
    }
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  const metricsServer = config.metrics
    ? createServer((req, res) => {
        if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
          res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics here\n');
          return;
        }
        registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
          (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err)),
        );
      })
    : undefined;
  if (metricsServer && config.metrics) {
    await new Promise<void>((resolve, reject) => metricsServer.once('error', reject).listen(config.metrics!.port, config.metrics!.host, resolve));
    const { address, port } = metricsServer.address() as AddressInfo;
    log.info({ url: `http://${address}:${port}/metrics` }, 'metrics listening');
  }

  await runtime.start();
  services.start();
  if (services.size) log.info({ services: services.statuses().map((s) => `${s.plugin}/${s.name}`) }, 'plugin services started');
  log.info({ workerId: runtime.workerId, nodeTypes: runtime.nodeTypes, concurrency: config.concurrency }, 'worker ready');
}
