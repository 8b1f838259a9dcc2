import type { CredentialsAccessor, NodeLogger, PluginState, PluginMetrics } from '@anchorflow/plugin-sdk';
import type { NodeCatalog } from './catalog.js';
import type { Clock } from './ports/clock.port.js';
import type { EventSink } from './ports/event-sink.port.js';
import type { ExecutionLeases } from './ports/execution-leases.port.js';
import type { ExecutionStore } from './ports/execution-store.port.js';
import type { Ids } from './ports/ids.port.js';
import type { NodeTransport } from './ports/node-transport.port.js';
import type { WorkflowSource } from './ports/workflow-source.port.js';
import type { WorkflowDefinition } from './workflow/workflow.types.js';
import type { ExecutionParent } from './events/execution-events.js';

export interface EngineOptions {
  /** node attempts running at once in this process (all executions) */
  maxConcurrentNodes: number;
  /** node attempts running at once in one execution */
  maxConcurrentNodesPerExecution: number;
  /** time bound for one JSONata evaluation */
  expressionTimeoutMs: number;
  /** largest graph accepted */
  maxNodes: number;
  /** timers due within this horizon are kept in memory; later ones are found by the poller */
  wakeUpHorizonMs: number;
  /** how often the leases of live executions are renewed (must be well under the store's lease) */
  leaseRenewMs: number;
  /** how deep sub-workflows may nest (a parent's child is depth 1); deeper starts fail SUBWORKFLOW_DEPTH */
  maxSubworkflowDepth: number;
  /**
   * Largest total serialized output (JSON, all nodes and ports) one execution may store; a node whose
   * output would take the execution past it fails with EXECUTION_OUTPUT_QUOTA (issue 17). 0: no quota.
   */
  maxExecutionOutputBytes: number;
}

export const DEFAULT_ENGINE_OPTIONS: EngineOptions = {
  maxConcurrentNodes: 512,
  maxConcurrentNodesPerExecution: 16,
  expressionTimeoutMs: 1000,
  maxNodes: 20_000,
  wakeUpHorizonMs: 60_000,
  leaseRenewMs: 5_000,
  maxSubworkflowDepth: 10,
  maxExecutionOutputBytes: 256 * 1024 * 1024,
};

export interface EngineDeps {
  store: ExecutionStore;
  /** ownership of executions among engines sharing the store; default: SingleOwnerLeases (the store is ours alone) */
  leases?: ExecutionLeases;
  transport: NodeTransport;
  catalog: NodeCatalog;
  workflows: WorkflowSource;
  sink?: EventSink;
  clock?: Clock;
  ids?: Ids;
  logger?: NodeLogger;
  /** plugin-owned durable state, by plugin name */
  pluginState?: (plugin: string) => PluginState;
  credentials?: CredentialsAccessor;
  /** plugin metrics (ctx.metrics), by plugin name; absent: nodes' metrics go nowhere */
  metrics?: (plugin: string) => PluginMetrics;
  /** told how the scheduler keeps up (metrics); absent: nothing measured */
  observer?: EngineObserver;
  options?: Partial<EngineOptions>;
}

/** How late the engine's scheduling runs, for metrics. Called synchronously: keep it cheap. */
export interface EngineObserver {
  /**
   * A node attempt started `lagMs` after it could have: `ready` — it waited in the ready queue for a
   * concurrency slot; `timer` — its retry/wait timer fired that long after its due time.
   */
  schedulingLag(kind: 'ready' | 'timer', lagMs: number): void;
}

/** What the engine holds right now (read on a metrics scrape). */
export interface EngineStats {
  /** executions in memory: running, or waiting on a timer due soon */
  liveExecutions: number;
  /** node attempts running in this process */
  runningNodes: number;
  /** node attempts ready to start, waiting for a concurrency slot */
  readyNodes: number;
  /** how long the oldest of them has waited (0 when none) */
  oldestReadyMs: number;
}

export interface StartExecutionRequest {
  workflowId: string;
  version: number;
  /** the version's definition when the caller has it (saves a lookup) */
  definition?: WorkflowDefinition;
  input?: unknown;
  /** which trigger fired; default: the first manual trigger, else the first trigger, else all start nodes */
  triggerNodeId?: string;
  /** never start two executions of this workflow with the same key */
  dedupeKey?: string;
  /**
   * false: don't wait for the start to be durable before running. Safe when the caller waits for the
   * result anyway (a webhook answering with the last node's output): a crash before the first commit
   * is then seen by the caller as a failed request, and nodes with side effects still wait for
   * durability before they run.
   */
  awaitDurable?: boolean;
  /** the execution starting this one (sub-workflow node, error workflow): recorded in execution.started */
  parent?: ExecutionParent;
}

export interface StartExecutionResult {
  executionId: string;
  /** true when dedupeKey matched an existing execution (nothing new was started) */
  duplicate: boolean;
}
