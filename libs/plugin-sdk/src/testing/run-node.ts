import jsonata from 'jsonata';
import { NodeError } from '../errors.js';
import { invokeNode } from '../invoke.js';
import type { ChildExecutions, NodeDefinition, NodeLogger, NodeOutputs, PluginState, ResumeInfo, Suspension } from '../node.js';
import { isExpression, validateParams } from '../params.js';
import type { PluginMetrics } from '../metrics.js';
import { MemoryPluginState } from './memory-plugin-state.js';
import { createGuardedFetch, type OutboundPolicy } from '../outbound.js';

export interface RunNodeOptions {
  params?: Record<string, unknown>;
  input?: unknown;
  attempt?: number;
  idempotencyKey?: string;
  executionId?: string;
  nodeId?: string;
  /** credentials by reference name */
  credentials?: Record<string, Record<string, unknown>>;
  state?: PluginState;
  /** what ctx.metrics records to (e.g. a RecordingMetrics); default: nothing kept */
  metrics?: PluginMetrics;
  resume?: ResumeInfo;
  /** live source node ids (what the engine passes to a join) */
  sources?: string[];
  signal?: AbortSignal;
  /** bindings for expressions */
  trigger?: unknown;
  nodes?: Record<string, unknown>;
  /** the clock ctx.now() reads (default Date.now) */
  now?: () => number;
  /**
   * the outbound policy behind ctx.fetch (default: nothing allow-listed, so loopback is refused). A test
   * calling a receiver on loopback passes `{ allowHosts: ['127.0.0.1'] }`.
   */
  outbound?: OutboundPolicy;
  /** what ctx.executions starts child workflows with (default: absent, as in a plugin worker) */
  executions?: ChildExecutions;
}

export type RunNodeResult =
  | { kind: 'output'; outputs: NodeOutputs; progress: unknown[]; logs: Array<{ level: string; msg: string }> }
  | { kind: 'suspend'; suspension: Suspension; progress: unknown[]; logs: Array<{ level: string; msg: string }> };

const fetches = new Map<string, ReturnType<typeof createGuardedFetch>>();
/** one guarded fetch (one connection pool) per policy, however many runNode calls use it */
function fetchFor(policy: OutboundPolicy) {
  const key = JSON.stringify(policy);
  let f = fetches.get(key);
  if (!f) fetches.set(key, (f = createGuardedFetch(policy)));
  return f;
}

async function evaluateParams(value: unknown, evaluate: (e: string) => Promise<unknown>): Promise<unknown> {
  if (isExpression(value)) return evaluate(value.slice(1));
  if (Array.isArray(value)) return Promise.all(value.map((v) => evaluateParams(v, evaluate)));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(value)) out[k] = await evaluateParams(x, evaluate);
    return out;
  }
  return value;
}

/**
 * Runs one node the way the engine would (params validated, `=expressions` evaluated, outputs checked)
 * without a daemon. Throws what the node throws, or a NodeError INVALID_PARAMS.
 */
export async function runNode<P extends object>(def: NodeDefinition<P>, options: RunNodeOptions = {}): Promise<RunNodeResult> {
  const input = 'input' in options ? options.input : {};
  const executionId = options.executionId ?? 'test-execution';
  const nodeId = options.nodeId ?? 'node';
  const bindings = { trigger: options.trigger ?? input, nodes: options.nodes ?? {}, execution: { id: executionId } };
  const evaluate = async (expression: string, data: unknown = input) => jsonata(expression).evaluate(data, bindings);
  const fail = (what: string, problems: Array<{ path: string; message: string }>) =>
    new NodeError(`invalid params${what}: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`, 'INVALID_PARAMS', problems);
  const staticCheck = validateParams(def.params, options.params ?? {});
  if (staticCheck.problems.length) throw fail('', staticCheck.problems);
  const checked = validateParams(def.params, await evaluateParams(options.params ?? {}, (e) => evaluate(e)));
  if (checked.problems.length) throw fail(' after evaluation', checked.problems);
  const progress: unknown[] = [];
  const logs: Array<{ level: string; msg: string }> = [];
  const log = (level: string) => (msg: string) => void logs.push({ level, msg });
  const logger: NodeLogger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
  const creds = options.credentials ?? {};
  const outcome = await invokeNode(
    def as NodeDefinition,
    {
      executionId,
      workflowId: 'test-workflow',
      nodeId,
      attempt: options.attempt ?? 1,
      idempotencyKey: options.idempotencyKey ?? `${executionId}:${nodeId}`,
      params: checked.value as Record<string, unknown>,
      input,
      ...(options.resume ? { resume: options.resume } : {}),
      ...(options.sources ? { sources: options.sources } : {}),
    },
    {
      signal: options.signal ?? new AbortController().signal,
      logger,
      credentials: {
        get: async <T extends object>(ref: string) => {
          const c = creds[ref];
          if (!c) throw new NodeError(`credential "${ref}" not found`, 'CREDENTIAL_NOT_FOUND');
          return c as T;
        },
      },
      state: options.state ?? new MemoryPluginState(),
      ...(options.metrics ? { metrics: options.metrics } : {}),
      evaluate,
      progress: (d) => void progress.push(d),
      now: options.now ?? Date.now,
      ...(options.outbound ? { fetch: fetchFor(options.outbound) } : {}),
      ...(options.executions ? { executions: options.executions } : {}),
    },
  );
  if (outcome.kind === 'suspend') return { kind: 'suspend', suspension: { kind: 'suspend', ...(outcome.until !== undefined ? { until: outcome.until } : {}), ...(outcome.token ? { token: outcome.token } : {}) }, progress, logs };
  return { kind: 'output', outputs: outcome.outputs, progress, logs };
}
