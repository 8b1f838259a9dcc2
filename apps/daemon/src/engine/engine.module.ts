import { type DynamicModule, Global, Module, type Provider } from '@nestjs/common';
import { EventBus } from '@nestjs/cqrs';
import type { Engine, ExecutionReader, ExecutionStore, WorkflowRepository } from '@anchorflow/engine';
import type { PluginDefinition, PluginState } from '@anchorflow/plugin-sdk';
import type { Logger } from 'pino';
import type { AnchorflowConfig } from '../config/config.schema.js';
import { APP_CONFIG } from '../config/config.token.js';
import { DATABASE, DATABASE_PING, EXECUTION_READER, EXECUTION_STORE, PLUGIN_STATE, WORKFLOW_REPOSITORY } from '../database/database.tokens.js';
import { persistenceProviders } from '../database/persistence.providers.js';
import { toNodeLogger } from '../logging/logger.js';
import { ROOT_LOGGER } from '../logging/logging.tokens.js';
import { type DaemonPlugins, loadDaemonPlugins, pluginsBaseDir } from '../plugins/daemon-plugins.js';
import { resolveDaemonId } from './daemon-id.js';
import { EngineLifecycle } from './engine-lifecycle.service.js';
import { buildEngine, buildOutboundFetch, buildTransport, type OwnListeners } from './engine.factory.js';
import { DAEMON_ID, DAEMON_METRICS, DAEMON_PLUGINS, ENGINE, NATS_CLUSTER, OWN_LISTENERS, PLUGINS } from './engine.tokens.js';
import { DaemonMetrics } from '../metrics/daemon-metrics.js';
import { EventBusSink } from './event-bus.sink.js';
import { type NatsCluster, startNatsCluster } from './nats-cluster.js';
import { builtInPlugins } from './plugins.js';
import type { EngineSecurity } from '../security/security.module.js';
import { ENGINE_SECURITY } from '../security/security.tokens.js';

export interface EngineModuleOptions {
  config: AnchorflowConfig;
  /** the open database (see openDatabaseFromConfig); closed on shutdown */
  database: object;
  logger: Logger;
  /** default: the built-in plugins (the `plugins` config key adds to them) */
  plugins?: PluginDefinition[];
  /** where relative `plugins` paths and package names are resolved; default: the ANCHORFLOW_CONFIG file's directory, else the working directory */
  pluginsBaseDir?: string;
  /** ready-made engine ports instead of the PostgreSQL adapters (specs without a database) */
  ports?: EnginePorts;
}

export interface EnginePorts {
  store: ExecutionStore & { close?(): Promise<void> };
  workflows: WorkflowRepository;
  reader: ExecutionReader;
  pluginState: (plugin: string) => PluginState;
  ping?: () => Promise<void>;
}

function portProviders(ports: EnginePorts): Provider[] {
  return [
    { provide: EXECUTION_STORE, useValue: ports.store },
    { provide: WORKFLOW_REPOSITORY, useValue: ports.workflows },
    { provide: EXECUTION_READER, useValue: ports.reader },
    { provide: PLUGIN_STATE, useValue: ports.pluginState },
    { provide: DATABASE_PING, useValue: ports.ping ?? (async () => undefined) },
  ];
}

/**
 * Config, logger, database, the engine's ports and the engine itself, for the whole app. Start-up order
 * (libs/plugin-host/README.md): plugins loaded into the catalog → NATS connected, registry and transport
 * started, workers discovered (cluster mode only) → engine built on the routing transport and attached
 * → EngineLifecycle.start() resumes executions after listen().
 */
@Global()
@Module({})
export class EngineModule {
  static forRoot(options: EngineModuleOptions): DynamicModule {
    return {
      module: EngineModule,
      providers: [
        { provide: APP_CONFIG, useValue: options.config },
        { provide: ROOT_LOGGER, useValue: options.logger },
        { provide: DATABASE, useValue: options.database },
        { provide: PLUGINS, useValue: options.plugins ?? builtInPlugins() },
        { provide: DAEMON_METRICS, useFactory: () => new DaemonMetrics() },
        { provide: OWN_LISTENERS, useValue: { ports: [] } satisfies OwnListeners },
        ...(options.ports ? portProviders(options.ports) : persistenceProviders),
        {
          provide: DAEMON_ID,
          inject: [APP_CONFIG, ROOT_LOGGER],
          useFactory: (config: AnchorflowConfig, logger: Logger): string => {
            const { id, source, warning } = resolveDaemonId(config, { persist: !options.ports });
            if (warning) logger.warn({ event: 'daemon.id', daemonId: id, source }, `daemon id ${id}: ${warning}; set daemonId (ANCHORFLOW_DAEMON_ID) to keep it stable`);
            else logger.info({ event: 'daemon.id', daemonId: id, source }, `daemon id ${id}`);
            return id;
          },
        },
        {
          provide: DAEMON_PLUGINS,
          inject: [APP_CONFIG, PLUGINS, ROOT_LOGGER],
          useFactory: (config: AnchorflowConfig, builtIns: PluginDefinition[], logger: Logger): Promise<DaemonPlugins> => {
            const disabled = new Set(config.disabledBuiltInPlugins);
            for (const name of disabled) {
              if (!builtIns.some((p) => p.name === name)) logger.warn({ event: 'plugins.disabled-unknown', plugin: name }, `disabledBuiltInPlugins names ${name}, which is not a built-in plugin`);
            }
            return loadDaemonPlugins({
              builtIns: builtIns.filter((p) => !disabled.has(p.name)),
              specs: config.plugins,
              baseDir: options.pluginsBaseDir ?? pluginsBaseDir(),
              logger: toNodeLogger(logger.child({ component: 'plugins' })),
            });
          },
        },
        {
          provide: NATS_CLUSTER,
          inject: [APP_CONFIG, DAEMON_ID, DAEMON_PLUGINS, PLUGIN_STATE, ROOT_LOGGER],
          useFactory: async (config: AnchorflowConfig, daemonId: string, plugins: DaemonPlugins, pluginState: (plugin: string) => PluginState, logger: Logger): Promise<NatsCluster | null> => {
            const url = config.nats.url;
            if (!url) return null;
            return startNatsCluster({ config: { ...config, nats: { ...config.nats, url } }, daemonId, catalog: plugins.catalog, pluginState, logger: toNodeLogger(logger.child({ component: 'nats' })) });
          },
        },
        {
          provide: ENGINE,
          inject: [APP_CONFIG, DAEMON_PLUGINS, NATS_CLUSTER, EXECUTION_STORE, WORKFLOW_REPOSITORY, PLUGIN_STATE, EventBus, ROOT_LOGGER, OWN_LISTENERS, DAEMON_METRICS, { token: ENGINE_SECURITY, optional: true }],
          useFactory: (
            config: AnchorflowConfig,
            plugins: DaemonPlugins,
            cluster: NatsCluster | null,
            store: ExecutionStore,
            workflows: WorkflowRepository,
            pluginState: (plugin: string) => PluginState,
            eventBus: EventBus,
            logger: Logger,
            listeners: OwnListeners,
            metrics: DaemonMetrics,
            security: EngineSecurity | undefined,
          ): Engine => {
            const engine = buildEngine({
              catalog: plugins.catalog,
              // credential values are redacted from node outputs and errors (SecurityModule)
              transport: (security?.wrapTransport ?? ((t) => t))(buildTransport(plugins.catalog, cluster?.transport, buildOutboundFetch(config, listeners))),
              credentials: security?.credentials,
              store,
              workflows,
              pluginState,
              sink: new EventBusSink(eventBus, logger),
              logger: toNodeLogger(logger.child({ component: 'engine' })),
              options: config.engine,
              leaseMs: config.cluster.leaseMs,
              metrics: (plugin) => metrics.pluginMetrics(plugin),
              observer: metrics.engineObserver,
            });
            // wakes nodes waiting for a worker when one announces their type
            cluster?.transport.attachEngine(engine);
            return engine;
          },
        },
        EngineLifecycle,
      ],
      exports: [
        APP_CONFIG, ROOT_LOGGER, DATABASE, PLUGINS, DAEMON_ID, DAEMON_METRICS, DAEMON_PLUGINS, NATS_CLUSTER, EXECUTION_STORE, WORKFLOW_REPOSITORY, EXECUTION_READER, PLUGIN_STATE,
        DATABASE_PING, ENGINE, OWN_LISTENERS, EngineLifecycle,
      ],
    };
  }
}
