import jsonata from 'jsonata';
import { NodeError } from '../errors.js';
import type { NodeContext, NodeDefinition, NodeLogger, NodeOutputs, PluginState, ResumeInfo, Suspension } from '../node.js';
import { isSuspension, outputPortsOf } from '../node.js';
import { isExpression, validateParams } from '../params.js';
import { MemoryPluginState } from './memory-plugin-state.js';

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
  resume?: ResumeInfo;
  signal?: AbortSignal;
  /** bindings for expressions */
  trigger?: unknown;
  nodes?: Record<string, unknown>;
}

export type RunNodeResult =
  | { kind: 'output'; outputs: NodeOutputs; progress: unknown[]; logs: Array<{ level: string; msg: string }> }
  | { kind: 'suspend'; suspension: Suspension; progress: unknown[]; logs: Array<{ level: string; msg: string }> };

async function evaluateParams(params: Record<string, unknown>, evaluate: (e: string) => Promise<unknown>): Promise<Record<string, unknown>> {
  const walk = async (v: unknown): Promise<unknown> => {
    if (isExpression(v)) return evaluate(v.slice(1));
    if (Array.isArray(v)) return Promise.all(v.map(walk));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = await walk(x);
      return out;
    }
    return v;
  };
  return (await walk(params)) as Record<string, unknown>;
}

/**
 * Runs one node the way the engine would (params validated, `=expressions` evaluated, outputs checked)
 * without a daemon. Throws what the node throws, or a NodeError for invalid params.
 */
export async function runNode<P extends object>(def: NodeDefinition<P>, options: RunNodeOptions = {}): Promise<RunNodeResult> {
  const input = options.input ?? {};
  const executionId = options.executionId ?? 'test-execution';
  const nodeId = options.nodeId ?? 'node';
  const bindings = { trigger: options.trigger ?? input, nodes: options.nodes ?? {}, execution: { id: executionId } };
  const evaluate = async (expression: string, data: unknown = input) => jsonata(expression).evaluate(data, bindings);
  const staticCheck = validateParams(def.params, options.params ?? {});
  if (staticCheck.problems.length) {
    throw new NodeError(`invalid params: ${staticCheck.problems.map((p) => `${p.path} ${p.message}`).join('; ')}`, 'INVALID_PARAMS', staticCheck.problems);
  }
  const evaluated = await evaluateParams(options.params ?? {}, (e) => evaluate(e));
  const checked = validateParams(def.params, evaluated);
  if (checked.problems.length) {
    throw new NodeError(`invalid params after evaluation: ${checked.problems.map((p) => `${p.path} ${p.message}`).join('; ')}`, 'INVALID_PARAMS', checked.problems);
  }
  const progress: unknown[] = [];
  const logs: Array<{ level: string; msg: string }> = [];
  const log = (level: string) => (msg: string) => void logs.push({ level, msg });
  const logger: NodeLogger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
  const creds = options.credentials ?? {};
  const ctx: NodeContext<P> = {
    params: checked.value,
    executionId,
    workflowId: 'test-workflow',
    nodeId,
    nodeType: def.type,
    attempt: options.attempt ?? 1,
    idempotencyKey: options.idempotencyKey ?? `${executionId}:${nodeId}`,
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
    resume: options.resume,
    evaluate,
    progress: (d) => void progress.push(d),
    suspend: ({ until, token }) => ({ kind: 'suspend', ...(until !== undefined ? { until: +until } : {}), ...(token ? { token } : {}) }),
  };
  const result = await def.execute(ctx, input);
  if (isSuspension(result)) return { kind: 'suspend', suspension: result, progress, logs };
  const ports = outputPortsOf(def, checked.value);
  for (const port of Object.keys(result ?? {})) {
    if (!ports.includes(port) && port !== 'error') throw new NodeError(`${def.type} emitted on unknown port "${port}"`, 'UNKNOWN_PORT');
  }
  return { kind: 'output', outputs: result ?? {}, progress, logs };
}
