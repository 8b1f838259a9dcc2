import { type DynamicModule, Global, Module, type Provider } from '@nestjs/common';
import { type ExecutionLeases, type ExecutionReader, type ExecutionStore, MemoryNamedLeases, type NamedLeases, SingleOwnerLeases, type WorkflowRepository } from '@anchorflow/engine';
import type { PluginState } from '@anchorflow/plugin-sdk';
import type { Logger } from 'pino';
import type { AnchorflowConfig } from '../config/config.schema.js';
import { APP_CONFIG } from '../config/config.token.js';
import { ROOT_LOGGER } from '../logging/logging.tokens.js';
import { DAEMON_ID, DAEMON_METRICS } from './core.tokens.js';
import { DaemonMetrics } from './daemon-metrics.js';
import { resolveDaemonId } from './daemon-id.js';
import { DATABASE, DATABASE_PING, EXECUTION_LEASES, EXECUTION_READER, EXECUTION_STORE, NAMED_LEASES, PLUGIN_STATE, WORKFLOW_REPOSITORY } from './database/database.tokens.js';
import { persistenceProviders } from './database/persistence.providers.js';

export interface CoreModuleOptions {
  config: AnchorflowConfig;
  /** the open database (see openDatabaseFromConfig); closed on shutdown */
  database: object;
  logger: Logger;
  /** ready-made engine ports instead of the PostgreSQL adapters (specs without a database) */
  ports?: EnginePorts;
}

export interface EnginePorts {
  store: ExecutionStore & { close?(): Promise<void> };
  workflows: WorkflowRepository;
  reader: ExecutionReader;
  pluginState: (plugin: string) => PluginState;
  /** default: in memory (this process is the only holder) */
  leases?: NamedLeases;
  /** default: SingleOwnerLeases on the store */
  executionLeases?: ExecutionLeases;
  ping?: () => Promise<void>;
}

function portProviders(ports: EnginePorts): Provider[] {
  return [
    { provide: EXECUTION_STORE, useValue: ports.store },
    { provide: EXECUTION_LEASES, useValue: ports.executionLeases ?? new SingleOwnerLeases(ports.store) },
    { provide: WORKFLOW_REPOSITORY, useValue: ports.workflows },
    { provide: EXECUTION_READER, useValue: ports.reader },
    { provide: PLUGIN_STATE, useValue: ports.pluginState },
    { provide: NAMED_LEASES, useValue: ports.leases ?? new MemoryNamedLeases() },
    { provide: DATABASE_PING, useValue: ports.ping ?? (async () => undefined) },
  ];
}

/**
 * What every feature stands on: the validated config, the root logger, the open database with the
 * engine's port adapters on it (or in-memory ports), and this daemon's id. Apart from the engine module,
 * which builds plugins, NATS and the engine on top of it.
 */
@Global()
@Module({})
export class CoreModule {
  static forRoot(options: CoreModuleOptions): DynamicModule {
    return {
      module: CoreModule,
      providers: [
        { provide: APP_CONFIG, useValue: options.config },
        { provide: ROOT_LOGGER, useValue: options.logger },
        { provide: DATABASE, useValue: options.database },
        { provide: DAEMON_METRICS, useFactory: () => new DaemonMetrics() },
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
      ],
      exports: [APP_CONFIG, ROOT_LOGGER, DATABASE, DAEMON_ID, DAEMON_METRICS, EXECUTION_STORE, EXECUTION_LEASES, WORKFLOW_REPOSITORY, EXECUTION_READER, PLUGIN_STATE, DATABASE_PING, NAMED_LEASES],
    };
  }
}
