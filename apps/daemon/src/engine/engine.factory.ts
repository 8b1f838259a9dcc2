import { Engine, NodeCatalog, type EngineDeps, type EventSink, type ExecutionStore, type WorkflowSource } from '@anchorflow/engine';
import type { CredentialsAccessor, NodeLogger, PluginDefinition, PluginState } from '@anchorflow/plugin-sdk';
import { NodeError } from '@anchorflow/plugin-sdk';
import { InProcessTransport } from '@anchorflow/transport';
import type { EngineConfig } from '../config/config.schema.js';

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

export interface EngineParts {
  plugins: readonly PluginDefinition[];
  store: ExecutionStore;
  workflows: WorkflowSource;
  sink: EventSink;
  logger: NodeLogger;
  pluginState: (plugin: string) => PluginState;
  options: EngineConfig;
  credentials?: CredentialsAccessor;
}

/** The framework-free engine with the in-process transport. */
export function buildEngine(parts: EngineParts): Engine {
  const catalog = buildCatalog(parts.plugins);
  const { maxConcurrentNodes, maxConcurrentNodesPerExecution, expressionTimeoutMs, maxNodes, wakeUpHorizonMs } = parts.options;
  const deps: EngineDeps = {
    store: parts.store,
    transport: new InProcessTransport(catalog),
    catalog,
    workflows: parts.workflows,
    sink: parts.sink,
    logger: parts.logger,
    pluginState: parts.pluginState,
    credentials: parts.credentials ?? noCredentials,
    options: { maxConcurrentNodes, maxConcurrentNodesPerExecution, expressionTimeoutMs, maxNodes, wakeUpHorizonMs },
  };
  return new Engine(deps);
}
