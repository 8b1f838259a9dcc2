/**
 * The one place that knows the persistence package's API: opening the database and building the
 * engine-port adapters on it. Everything else in the daemon sees only the engine's port interfaces.
 */
import type { Provider } from '@nestjs/common';
import type { ExecutionLeases, ExecutionReader, ExecutionStore, NamedLeases, WorkflowRepository } from '@anchorflow/engine';
import type { PluginState } from '@anchorflow/plugin-sdk';
// a namespace import: specs on in-memory ports load this file without needing every export at link time
import * as persistence from '@anchorflow/persistence';
import type { Logger } from 'pino';
import type { AnchorflowConfig } from '../../config/config.schema.js';
import { ROOT_LOGGER } from '../../logging/logging.tokens.js';
import { DAEMON_ID, DAEMON_METRICS } from '../core.tokens.js';
import type { DaemonMetrics } from '../daemon-metrics.js';
import { APP_CONFIG } from '../../config/config.token.js';
import { DATABASE, DATABASE_PING, EXECUTION_LEASES, EXECUTION_READER, EXECUTION_STORE, NAMED_LEASES, PLUGIN_STATE, WORKFLOW_REPOSITORY } from './database.tokens.js';

export type Database = persistence.Database;

/** An ExecutionStore that can be flushed and closed on shutdown. */
export type ClosableExecutionStore = ExecutionStore & { close?(): Promise<void> };

/** Embedded PostgreSQL in <dataDir> unless database.url / DATABASE_URL is set; migrations applied. */
export function openDatabaseFromConfig(config: AnchorflowConfig, logger: Logger): Promise<Database> {
  return persistence.openDatabase({
    databaseUrl: config.database.url,
    dataDir: config.dataDir,
    embeddedPort: config.database.embeddedPort,
    logger: databaseLogger(logger),
  });
}

function databaseLogger(logger: Logger): persistence.DatabaseLogger {
  const log = logger.child({ component: 'database' });
  // the embedded server's own routine LOG lines are debug detail; its warnings and errors are not
  const routine = (m: string) => m.startsWith('postgres: ') && / LOG: /.test(m);
  return {
    info: (m: string) => (routine(m) ? log.debug(m) : log.info(m)),
    warn: (m: string) => log.warn(m),
    error: (m: string) => log.error(m),
  };
}

/** Providers of the engine ports on an open database (registered by EngineModule). */
export const persistenceProviders: Provider[] = [
  {
    provide: EXECUTION_STORE,
    inject: [DATABASE, ROOT_LOGGER, DAEMON_ID, APP_CONFIG, DAEMON_METRICS],
    // executions are leased to this daemon (stable id: a restarted daemon takes its own back at once)
    useFactory: (db: Database, logger: Logger, daemonId: string, config: AnchorflowConfig, metrics: DaemonMetrics): ClosableExecutionStore =>
      new persistence.PgExecutionStore(db, {
        logger: databaseLogger(logger), owner: daemonId, leaseMs: config.cluster.leaseMs, onFlush: metrics.onFlush,
        // benchmark switch only (bench/run.js target `<db>-nochain`, BENCHMARKS.md "Execution receipts"): measures
        // what the history hash chain costs; histories written so get no receipts. Not a config key on purpose.
        historyChain: !noHistoryChainForBenchmark(logger),
      }),
  },
  {
    provide: EXECUTION_LEASES,
    inject: [EXECUTION_STORE],
    useFactory: (store: persistence.PgExecutionStore): ExecutionLeases => new persistence.PgExecutionLeases(store),
  },
  {
    provide: WORKFLOW_REPOSITORY,
    inject: [DATABASE],
    useFactory: (db: Database): WorkflowRepository => new persistence.PgWorkflowRepository(db),
  },
  {
    provide: EXECUTION_READER,
    inject: [DATABASE],
    useFactory: (db: Database): ExecutionReader => new persistence.PgExecutionReader(db),
  },
  {
    provide: PLUGIN_STATE,
    inject: [DATABASE],
    useFactory: (db: Database): ((plugin: string) => PluginState) => {
      const cache = new Map<string, PluginState>();
      return (plugin) => {
        let state = cache.get(plugin);
        if (!state) {
          state = persistence.pluginStateFor(db, plugin);
          cache.set(plugin, state);
        }
        return state;
      };
    },
  },
  {
    provide: NAMED_LEASES,
    inject: [DATABASE],
    useFactory: (db: Database): NamedLeases => new persistence.PgNamedLeases(db),
  },
  {
    provide: DATABASE_PING,
    inject: [DATABASE],
    useFactory: (db: Database) => (): Promise<void> => persistence.pingDatabase(db.pool),
  },
];

/** AF_BENCH_NO_HISTORY_CHAIN=1: the benchmark's "chain off" daemon; said loudly, since it costs receipts */
function noHistoryChainForBenchmark(logger: Logger): boolean {
  if (process.env.AF_BENCH_NO_HISTORY_CHAIN !== '1') return false;
  logger.warn({ event: 'store.history-chain-off' }, 'AF_BENCH_NO_HISTORY_CHAIN=1: execution histories are NOT hash-chained (benchmark only); their executions get no receipts');
  return true;
}
