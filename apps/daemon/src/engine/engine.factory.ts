import { Engine, NodeCatalog, type EngineDeps, type EventSink, type ExecutionLeases, type ExecutionStore, type NodeTransport, type WorkflowSource } from '@anchorflow/engine';
import type { CredentialsAccessor, NodeLogger, PluginDefinition, PluginState } from '@anchorflow/plugin-sdk';
import { createGuardedFetch, NodeError, type OutboundFetch } from '@anchorflow/plugin-sdk';
import { InProcessTransport, type NatsTransport, RoutingTransport } from '@anchorflow/transport';
import type { AnchorflowConfig, EngineConfig } from '../config/config.schema.js';

/** Until a credentials store exists, a node asking for one gets a clear, non-retryable error. */
export const noCredentials: CredentialsAccessor = {
  get: async (ref: string) => {
    throw new NodeError(`credential "${ref}" not found: no credentials store is configured`, 'CREDENTIAL_NOT_FOUND');
  },
};

/** Every node type of these plugins, by type. Throws if two plugins define the same type. */
export function buildCatalog(plugins: readonly PluginDefinition[]): NodeCatalog {
  const catalog = new NodeCatalog();
  for (const plugin of plugins) {
    for (const def of plugin.nodes) catalog.register(def, plugin.name);
  }
  return catalog;
}

/**
 * In-process only (embedded mode), or — with the NATS transport — types announced by workers go over
 * NATS and every type this daemon loads itself runs here.
 */
export function buildTransport(catalog: NodeCatalog, nats?: NatsTransport, fetch?: OutboundFetch): NodeTransport {
  const local = new InProcessTransport(catalog, fetch ? { fetch } : {});
  return nats ? new RoutingTransport(catalog, local, nats) : local;
}

export interface EngineParts {
  /** the node catalog (plugins loaded already); default: built from `plugins` */
  catalog?: NodeCatalog;
  /** used when no catalog is given */
  plugins?: readonly PluginDefinition[];
  /** default: the in-process transport on the catalog */
  transport?: NodeTransport;
  store: ExecutionStore;
  /** ownership among daemons (default: the store is this engine's alone) */
  leases?: ExecutionLeases;
  workflows: WorkflowSource;
  sink: EventSink;
  logger: NodeLogger;
  pluginState: (plugin: string) => PluginState;
  options: EngineConfig;
  /** the store's lease (cluster.leaseMs): leases are renewed three times within it */
  leaseMs?: number;
  credentials?: CredentialsAccessor;
}

/** The framework-free engine on the given catalog and transport (in process by default). */
export function buildEngine(parts: EngineParts): Engine {
  const catalog = parts.catalog ?? buildCatalog(parts.plugins ?? []);
  const { maxConcurrentNodes, maxConcurrentNodesPerExecution, expressionTimeoutMs, maxNodes, wakeUpHorizonMs } = parts.options;
  const deps: EngineDeps = {
    store: parts.store,
    ...(parts.leases ? { leases: parts.leases } : {}),
    transport: parts.transport ?? buildTransport(catalog),
    catalog,
    workflows: parts.workflows,
    sink: parts.sink,
    logger: parts.logger,
    pluginState: parts.pluginState,
    credentials: parts.credentials ?? noCredentials,
    options: {
      maxConcurrentNodes, maxConcurrentNodesPerExecution, expressionTimeoutMs, maxNodes, wakeUpHorizonMs,
      ...(parts.leaseMs !== undefined ? { leaseRenewMs: Math.max(100, Math.floor(parts.leaseMs / 3)) } : {}),
    },
  };
  return new Engine(deps);
}

/** The daemon's listening ports, filled in after listen(): ctx.fetch refuses them on local addresses. */
export interface OwnListeners {
  ports: number[];
}

/** The database's port when it runs on this machine (embedded, or a URL naming a local host). */
function databasePort(config: Pick<AnchorflowConfig, 'database'>): number | undefined {
  if (config.database.embeddedPort) return config.database.embeddedPort;
  if (!config.database.url) return undefined;
  try {
    const url = new URL(config.database.url);
    return /^(localhost|127\.|\[?::1\]?$|0\.0\.0\.0)/.test(url.hostname) || url.hostname === '' ? Number(url.port || 5432) : undefined;
  } catch {
    return undefined;
  }
}

/** ctx.fetch for nodes run by this daemon: config outbound.allowHosts; the daemon's own ports refused. */
export function buildOutboundFetch(config: Pick<AnchorflowConfig, 'outbound' | 'database'>, listeners: OwnListeners): OutboundFetch {
  const db = databasePort(config);
  return createGuardedFetch({ allowHosts: config.outbound.allowHosts, ownPorts: () => (db ? [...listeners.ports, db] : listeners.ports) });
}
