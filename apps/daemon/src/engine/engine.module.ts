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
import { EngineLifecycle } from './engine-lifecycle.service.js';
import { buildEngine } from './engine.factory.js';
import { ENGINE, PLUGINS } from './engine.tokens.js';
import { EventBusSink } from './event-bus.sink.js';
import { builtInPlugins } from './plugins.js';

export interface EngineModuleOptions {
  config: AnchorflowConfig;
  /** the open database (see openDatabaseFromConfig); closed on shutdown */
  database: object;
  logger: Logger;
  /** default: the built-in plugins */
  plugins?: PluginDefinition[];
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

/** Config, logger, database, the engine's ports and the engine itself, for the whole app. */
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
        ...(options.ports ? portProviders(options.ports) : persistenceProviders),
        {
          provide: ENGINE,
          inject: [APP_CONFIG, PLUGINS, EXECUTION_STORE, WORKFLOW_REPOSITORY, PLUGIN_STATE, EventBus, ROOT_LOGGER],
          useFactory: (
            config: AnchorflowConfig,
            plugins: PluginDefinition[],
            store: ExecutionStore,
            workflows: WorkflowRepository,
            pluginState: (plugin: string) => PluginState,
            eventBus: EventBus,
            logger: Logger,
          ): Engine =>
            buildEngine({
              plugins,
              store,
              workflows,
              pluginState,
              sink: new EventBusSink(eventBus, logger),
              logger: toNodeLogger(logger.child({ component: 'engine' })),
              options: config.engine,
            }),
        },
        EngineLifecycle,
      ],
      exports: [APP_CONFIG, ROOT_LOGGER, DATABASE, PLUGINS, EXECUTION_STORE, WORKFLOW_REPOSITORY, EXECUTION_READER, PLUGIN_STATE, DATABASE_PING, ENGINE, EngineLifecycle],
    };
  }
}
