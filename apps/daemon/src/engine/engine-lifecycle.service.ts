import { type BeforeApplicationShutdown, Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Engine } from '@anchorflow/engine';
import type { ServiceHost } from '@anchorflow/plugin-host';
import { type ServiceRpcHandlers, natsNames, serveServiceRpc } from '@anchorflow/transport';
import { toNodeLogger } from '../logging/logger.js';
import type { Logger } from 'pino';
import type { AnchorflowConfig } from '../config/config.schema.js';
import { APP_CONFIG } from '../config/config.token.js';
import { DATABASE, EXECUTION_STORE } from '../core/database/database.tokens.js';
import { ROOT_LOGGER } from '../logging/logging.tokens.js';
import { ENGINE, NATS_CLUSTER, PLUGIN_SERVICES, SERVICE_PORTS } from './engine.tokens.js';
import type { NatsCluster } from './nats-cluster.js';

interface Closable {
  close?(): Promise<void>;
}

/**
 * Starts the engine's work once the daemon listens (recover unfinished executions, start the wake-up
 * poller) and shuts down in order: engine stopped (no new work, running nodes aborted to resume after
 * restart, store flushed), then NATS (transport, registry, connection drained; jobs on workers finish
 * and leave their results for the next start) before the HTTP server closes; then the store, then the
 * database.
 */
@Injectable()
export class EngineLifecycle implements BeforeApplicationShutdown, OnApplicationShutdown {
  private started = false;
  private serviceRpc?: { stop(): void };

  constructor(
    @Inject(ENGINE) private readonly engine: Engine,
    @Inject(EXECUTION_STORE) private readonly store: Closable,
    @Inject(DATABASE) private readonly database: Closable,
    @Inject(APP_CONFIG) private readonly config: AnchorflowConfig,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
    @Inject(NATS_CLUSTER) private readonly cluster: NatsCluster | null,
    @Inject(PLUGIN_SERVICES) private readonly services: ServiceHost,
    @Inject(SERVICE_PORTS) private readonly servicePorts: ServiceRpcHandlers,
  ) {}

  /**
   * Call after listen(): resumes every unfinished execution (in cluster mode the registry has started and
   * workers have been discovered by now, so remote nodes find them), then polls for due timers and retries.
   */
  async start(): Promise<number> {
    if (this.started) return 0;
    this.started = true;
    const t0 = Date.now();
    const resumed = await this.engine.recover();
    this.engine.startPolling(this.config.engine.pollIntervalMs);
    this.logger.info({ event: 'engine.started', resumed, ms: Date.now() - t0 }, resumed ? `resumed ${resumed} unfinished execution(s)` : 'engine started');
    // plugin services in workers reach state, leases and resume through any daemon
    if (this.cluster) {
      this.serviceRpc = serveServiceRpc({ nc: this.cluster.nc, names: natsNames(this.cluster.prefix), handlers: this.servicePorts, logger: toNodeLogger(this.logger.child({ component: 'services-rpc' })) });
    }
    // plugin services: the database is migrated and waiting nodes are known, so ctx.resume() finds them
    this.services.start();
    if (this.services.size) this.logger.info({ event: 'services.started', services: this.services.statuses().map((s) => `${s.plugin}/${s.name}`) }, 'plugin services started');
    return resumed;
  }

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    this.logger.info({ event: 'shutdown', signal }, 'shutting down: stopping plugin services, then the engine');
    // services first: a service resuming nodes while the engine stops would race the store's last flush
    try {
      await this.services.stop();
    } catch (err) {
      this.logger.error({ err }, 'plugin services did not stop cleanly');
    }
    try {
      await this.engine.stop();
    } catch (err) {
      this.logger.error({ err }, 'engine did not stop cleanly');
    }
    this.serviceRpc?.stop();
    if (this.cluster) {
      this.logger.info({ event: 'shutdown.nats' }, 'closing the NATS connection');
      await this.cluster.stop();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    try {
      await this.store.close?.();
    } catch (err) {
      this.logger.error({ err }, 'execution store did not close cleanly');
    }
    try {
      await this.database.close?.();
    } catch (err) {
      this.logger.error({ err }, 'database did not close cleanly');
    }
    this.logger.info({ event: 'stopped' }, 'stopped');
  }
}
