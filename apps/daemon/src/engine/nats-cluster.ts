import type { NodeCatalog } from '@anchorflow/engine';
import type { NodeLogger, PluginState } from '@anchorflow/plugin-sdk';
import { type LiveWorker, NatsTransport, RemoteNodeRegistry, TRANSPORT_STATE_PLUGIN, connectNats } from '@anchorflow/transport';
import type { AnchorflowConfig } from '../config/config.schema.js';
import { redactNatsUrl } from '../config/load-config.js';

/** plugin-state namespace where the registry remembers announced node types across restarts */
export const REGISTRY_STATE_PLUGIN = '@anchorflow/registry';

/** (the daemon does not depend on `nats` directly) */
type NatsConnection = Awaited<ReturnType<typeof connectNats>>;

/** The daemon's side of cluster mode: one NATS connection, the registry of remote node types, the NATS transport. */
export interface NatsCluster {
  readonly nc: NatsConnection;
  readonly registry: RemoteNodeRegistry;
  readonly transport: NatsTransport;
  readonly daemonId: string;
  /** nats.prefix */
  readonly prefix: string;
  /** connected (the last status event was not a disconnect) and not closed: backs /health/ready */
  isConnected(): boolean;
  liveWorkers(nodeType?: string): LiveWorker[];
  /** after engine.stop(): the transport, the registry, then the connection (drained) */
  stop(): Promise<void>;
}

export interface StartNatsClusterOptions {
  config: Pick<AnchorflowConfig, 'nats' | 'workers'> & { nats: { url: string } };
  daemonId: string;
  catalog: NodeCatalog;
  pluginState: (plugin: string) => PluginState;
  logger: NodeLogger;
}

/**
 * Connects to NATS (retrying forever: start-up waits for the server, a later outage is waited out),
 * starts the registry (remembered remote types are known again before any worker announces), the
 * transport (jobs stream, results bucket, subscriptions), then collects announcements for
 * `workers.discoveryWindowMs` so executions resumed next find their workers.
 */
export async function startNatsCluster(opts: StartNatsClusterOptions): Promise<NatsCluster> {
  const { config, daemonId, catalog, pluginState, logger } = opts;
  const where = redactNatsUrl(config.nats.url);
  const t0 = Date.now();
  logger.info('connecting to NATS', { event: 'nats.connecting', url: where, prefix: config.nats.prefix, daemonId });
  const waiting = setInterval(() => logger.warn('NATS does not answer yet; still trying (the daemon starts once it does)', { event: 'nats.waiting', url: where, waitedMs: Date.now() - t0 }), 10_000);
  let nc: NatsConnection;
  try {
    nc = await connectNats({ url: config.nats.url, name: `anchorflow-daemon-${daemonId}` });
  } finally {
    clearInterval(waiting);
  }
  let connected = true;
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        connected = false;
        logger.warn('NATS disconnected; reconnecting (jobs in flight keep waiting)', { event: 'nats.disconnected', server: String(s.data) });
      } else if (s.type === 'reconnect') {
        connected = true;
        logger.info('NATS reconnected', { event: 'nats.reconnected', server: String(s.data) });
      } else if (s.type === 'error') logger.error('NATS error', { event: 'nats.error', err: String(s.data) });
    }
  })().catch(() => undefined);

  const prefix = config.nats.prefix;
  const registry = new RemoteNodeRegistry({ nc, catalog, prefix, daemonId, logger, store: pluginState(REGISTRY_STATE_PLUGIN) });
  await registry.start();
  const transport = new NatsTransport({
    nc,
    daemonId,
    registry,
    catalog,
    prefix,
    logger,
    state: pluginState(TRANSPORT_STATE_PLUGIN),
    waitForWorkerMs: config.workers.waitForWorkerMs,
    workerRecheckMs: config.workers.recheckMs,
    sweepIntervalMs: config.workers.resultSweepMs,
  });
  await transport.start();
  await registry.discover(config.workers.discoveryWindowMs);
  const workers = registry.liveWorkers();
  logger.info('NATS ready', {
    event: 'nats.ready',
    server: nc.getServer(),
    ms: Date.now() - t0,
    remoteNodeTypes: catalog.types().filter((t) => catalog.isRemote(t)),
    workers: workers.map((w) => w.workerId),
  });

  let stopped = false;
  return {
    nc,
    registry,
    transport,
    daemonId,
    prefix,
    isConnected: () => connected && !nc.isClosed(),
    liveWorkers: (nodeType) => registry.liveWorkers(nodeType),
    async stop() {
      if (stopped) return;
      stopped = true;
      await transport.stop().catch((err) => logger.error('NATS transport did not stop cleanly', { err: String(err) }));
      await registry.stop().catch((err) => logger.error('worker registry did not stop cleanly', { err: String(err) }));
      // drain flushes what is pending (results, acks) and closes; a server that is down must not hold shutdown
      const drained = nc.drain().catch(() => undefined);
      const timer = new Promise<void>((r) => setTimeout(r, 5000).unref());
      await Promise.race([drained, timer]);
      if (!nc.isClosed()) await nc.close().catch(() => undefined);
    },
  };
}
