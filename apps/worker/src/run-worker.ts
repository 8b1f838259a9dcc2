import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type { NodeLogger } from '@anchorflow/plugin-sdk';
import { loadPlugins, WorkerRuntime } from '@anchorflow/plugin-host';
import { connectNats } from '@anchorflow/transport';
import { type WorkerConfig, workerConfigFromEnv } from './worker-config.js';

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

  const runtime = new WorkerRuntime({
    nc,
    plugins,
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

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) {
      log.warn({ signal }, 'second signal; exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'stopping: no new jobs, finishing those in flight');
    try {
      await runtime.stop();
      await nc.drain();
    } catch (err) {
      log.error({ err: String(err) }, 'error while stopping');
    }
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  await runtime.start();
  log.info({ workerId: runtime.workerId, nodeTypes: runtime.nodeTypes, concurrency: config.concurrency }, 'worker ready');
}
