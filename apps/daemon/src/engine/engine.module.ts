import { type DynamicModule, Global, Module } from '@nestjs/common';
import { type Engine, EngineError, type ExecutionLeases, type ExecutionStore, type NamedLeases, type WorkflowRepository } from '@anchorflow/engine';
import { ServiceHost } from '@anchorflow/plugin-host';
import type { PluginDefinition, PluginState } from '@anchorflow/plugin-sdk';
import type { Logger } from 'pino';
import type { AnchorflowConfig } from '../config/config.schema.js';
import { APP_CONFIG } from '../config/config.token.js';
import { EXECUTION_LEASES, EXECUTION_STORE, NAMED_LEASES, PLUGIN_STATE, WORKFLOW_REPOSITORY } from '../core/database/database.tokens.js';
import { CoreModule, type CoreModuleOptions } from '../core/core.module.js';
import { toNodeLogger } from '../logging/logger.js';
import { ROOT_LOGGER } from '../logging/logging.tokens.js';
import { type DaemonPlugins, loadDaemonPlugins, pluginsBaseDir } from '../plugins/daemon-plugins.js';
import { EngineLifecycle } from './engine-lifecycle.service.js';
import { buildEngine, buildOutboundFetch, buildTransport, type OwnListeners } from './engine.factory.js';
import { DAEMON_ID, DAEMON_METRICS, DAEMON_PLUGINS, ENGINE, NATS_CLUSTER, OWN_LISTENERS, PLUGIN_SERVICES, PLUGINS, SERVICE_PORTS } from './engine.tokens.js';
import { PLUGIN_RUNTIME, type PluginRuntime } from '../plugins/plugins.tokens.js';
import type { ServiceRpcHandlers } from '@anchorflow/transport';
import { noCredentials } from './engine.factory.js';
import type { DaemonMetrics } from '../core/daemon-metrics.js';
import { ENGINE_EVENTS, EngineEvents } from '../events/engine-events.js';
import { type NatsCluster, startNatsCluster } from './nats-cluster.js';
import { builtInPlugins } from './plugins.js';
import type { EngineSecurity } from '../security/security.module.js';
import { ENGINE_SECURITY } from '../security/security.tokens.js';

export interface EngineModuleOptions extends CoreModuleOptions {
  /** default: the built-in plugins (the `plugins` config key adds to them) */
  plugins?: PluginDefinition[];
  /** where relative `plugins` paths and package names are resolved; default: the ANCHORFLOW_CONFIG file's directory, else the working directory */
  pluginsBaseDir?: string;
}

export type { EnginePorts } from '../core/core.module.js';

/**
 * Plugins, the NATS side, the engine and plugin services, for the whole app, on the core module (config,
 * logger, database, the engine's ports: CoreModule, imported here). Start-up order
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
      imports: [CoreModule.forRoot(options)],
      providers: [
        { provide: PLUGINS, useValue: options.plugins ?? builtInPlugins() },
        { provide: OWN_LISTENERS, useValue: { ports: [] } satisfies OwnListeners },
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
              pluginConfig: config.pluginConfig,
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
          provide: ENGINE_EVENTS,
          inject: [ROOT_LOGGER],
          useFactory: (logger: Logger): EngineEvents => new EngineEvents(logger),
        },
        {
          provide: ENGINE,
          inject: [APP_CONFIG, DAEMON_PLUGINS, NATS_CLUSTER, EXECUTION_STORE, EXECUTION_LEASES, WORKFLOW_REPOSITORY, PLUGIN_STATE, ENGINE_EVENTS, ROOT_LOGGER, OWN_LISTENERS, DAEMON_METRICS, { token: ENGINE_SECURITY, optional: true }],
          useFactory: (
            config: AnchorflowConfig,
            plugins: DaemonPlugins,
            cluster: NatsCluster | null,
            store: ExecutionStore,
            leases: ExecutionLeases,
            workflows: WorkflowRepository,
            pluginState: (plugin: string) => PluginState,
            events: EngineEvents,
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
              leases,
              workflows,
              pluginState,
              sink: events,
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
        {
          provide: SERVICE_PORTS,
          inject: [ENGINE, PLUGIN_STATE, NAMED_LEASES, { token: ENGINE_SECURITY, optional: true }],
          useFactory: (engine: Engine, pluginState: (plugin: string) => PluginState, leases: NamedLeases, security: EngineSecurity | undefined): ServiceRpcHandlers => ({
            state: pluginState,
            leases,
            credentials: security?.credentials ?? noCredentials,
            resume: async (token, data) => {
              try {
                await engine.signal(token, data);
                return true;
              } catch (err) {
                if (err instanceof EngineError && err.code === 'NOT_FOUND') return false;
                throw err;
              }
            },
          }),
        },
        {
          provide: PLUGIN_SERVICES,
          inject: [APP_CONFIG, DAEMON_ID, DAEMON_PLUGINS, ENGINE, SERVICE_PORTS, ROOT_LOGGER, DAEMON_METRICS],
          useFactory: (config: AnchorflowConfig, daemonId: string, plugins: DaemonPlugins, engine: Engine, ports: ServiceRpcHandlers, logger: Logger, metrics: DaemonMetrics): ServiceHost =>
            new ServiceHost({
              ...ports,
              plugins: plugins.hosted,
              now: () => engine.now(),
              metrics: (plugin) => metrics.pluginMetrics(plugin),
              onRestart: (plugin, service) => metrics.serviceRestarted(plugin, service),
              logger: toNodeLogger(logger.child({ component: 'services' })),
              holder: daemonId,
              leaseMs: config.cluster.leaseMs,
            }),
        },
        {
          provide: PLUGIN_RUNTIME,
          inject: [PLUGIN_SERVICES, NATS_CLUSTER],
          useFactory: (services: ServiceHost, cluster: NatsCluster | null): PluginRuntime => ({
            services: () => services.statuses(),
            health: () => services.health(),
            workers: () =>
              cluster?.liveWorkers().map((w) => ({ workerId: w.workerId, plugins: w.plugins, nodeTypes: w.nodeTypes, lastSeen: new Date(w.lastSeen).toISOString() })),
          }),
        },
        EngineLifecycle,
      ],
      exports: [
        PLUGINS, DAEMON_PLUGINS, NATS_CLUSTER, ENGINE, ENGINE_EVENTS, SERVICE_PORTS, PLUGIN_SERVICES, PLUGIN_RUNTIME, OWN_LISTENERS, EngineLifecycle,
      ],
    };
  }
}
