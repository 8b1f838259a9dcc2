import type { ExecutionLeases } from '../ports/execution-leases.port.js';
import { IsInt, IsOptional, IsString, Min } from 'class-validator';
import { NodeError, TransientNodeError, defineNode, isExpression } from '@anchorflow/plugin-sdk';
import { NodeCatalog } from '../catalog.js';
import { Engine } from '../engine.js';
import type { EngineObserver, EngineOptions } from '../engine.types.js';
import type { ExecutionView } from '../execution/execution.types.js';
import { MemoryExecutionStore, MemoryWorkflowSource } from '../testing/memory-execution-store.js';
import { ManualClock } from '../testing/manual-clock.js';
import type { Clock } from '../ports/clock.port.js';
import type { WorkflowDefinition } from '../workflow/workflow.types.js';
import { InProcessTransport } from '../transport/in-process.transport.js';

class SetParams {
  @IsOptional() fields?: Record<string, unknown>;
}
class FlakyParams {
  @IsInt() @Min(0) failTimes!: number;
  @IsOptional() @IsString() mode?: 'transient' | 'fatal' | 'plain';
}
class DelayParams {
  @IsInt() @Min(0) ms!: number;
}
class IfParams {
  @IsString() condition!: string;
}
class WaitParams {
  @IsOptional() @IsInt() ms?: number;
  @IsOptional() @IsString() token?: string;
}

/** Test node types with observable behaviour (calls are counted per node id). */
export function testCatalog(calls: Map<string, number>, log: string[] = []) {
  const count = (id: string) => {
    calls.set(id, (calls.get(id) ?? 0) + 1);
    log.push(id);
    return calls.get(id)!;
  };
  const catalog = new NodeCatalog();
  catalog.register(defineNode({ type: 'test.trigger', version: 1, title: 'trigger', category: 'trigger', inputs: [], outputs: ['main'], pure: true, execute: (ctx, input) => (count(ctx.nodeId), { main: input }) }), 'test');
  catalog.register(
    defineNode({
      type: 'test.set', version: 1, title: 'set', category: 'transform', inputs: ['main'], outputs: ['main'], pure: true, params: SetParams,
      execute: (ctx, input) => {
        count(ctx.nodeId);
        const base = input && typeof input === 'object' && !Array.isArray(input) ? input : { value: input };
        return { main: { ...base, ...(ctx.params.fields ?? {}) } };
      },
    }),
    'test',
  );
  catalog.register(
    defineNode({
      type: 'test.if', version: 1, title: 'if', category: 'flow', inputs: ['main'], outputs: ['true', 'false'], pure: true,
      params: IfParams,
      execute: async (ctx, input) => {
        count(ctx.nodeId);
        return (await ctx.evaluate(ctx.params.condition, input)) ? { true: input } : { false: input };
      },
    }),
    'test',
  );
  catalog.register(
    defineNode({
      type: 'test.flaky', version: 1, title: 'flaky', category: 'action', inputs: ['main'], outputs: ['main'], params: FlakyParams,
      execute: (ctx, input) => {
        const n = count(ctx.nodeId);
        if (n <= ctx.params.failTimes) {
          if (ctx.params.mode === 'fatal') throw new NodeError(`fatal failure ${n}`, 'FATAL');
          if (ctx.params.mode === 'plain') throw new Error(`plain failure ${n}`);
          throw new TransientNodeError(`transient failure ${n}`, 'FLAKY');
        }
        return { main: { input, attempt: ctx.attempt, key: ctx.idempotencyKey } };
      },
    }),
    'test',
  );
  catalog.register(
    defineNode({
      type: 'test.delay', version: 1, title: 'delay', category: 'action', inputs: ['main'], outputs: ['main'], params: DelayParams,
      execute: (ctx, input) => {
        count(ctx.nodeId);
        return new Promise((resolve, reject) => {
          const t = setTimeout(() => resolve({ main: input }), ctx.params.ms);
          ctx.signal.addEventListener('abort', () => (clearTimeout(t), reject(ctx.signal.reason)), { once: true });
        });
      },
    }),
    'test',
  );
  catalog.register(
    defineNode({
      type: 'test.hang', version: 1, title: 'hang until aborted', category: 'action', inputs: ['main'], outputs: ['main'],
      execute: (ctx) => {
        count(ctx.nodeId);
        return new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true }));
      },
    }),
    'test',
  );
  catalog.register(
    defineNode({
      type: 'test.wait', version: 1, title: 'wait', category: 'flow', inputs: ['main'], outputs: ['main'], pure: true, params: WaitParams,
      execute: (ctx, input) => {
        count(ctx.nodeId);
        if (ctx.resume) return { main: { input, resumed: ctx.resume.reason, data: ctx.resume.data ?? null } };
        return ctx.suspend({ ...(ctx.params.ms !== undefined ? { until: ctx.now() + ctx.params.ms } : {}), ...(ctx.params.token ? { token: ctx.params.token } : {}) });
      },
    }),
    'test',
  );
  catalog.register(
    defineNode({
      type: 'test.merge', version: 1, title: 'merge', category: 'flow', inputs: ['main'], outputs: ['main'], pure: true,
      execute: (ctx, input) => (count(ctx.nodeId), { main: input }),
    }),
    'test',
  );
  void isExpression;
  return catalog;
}

export interface Harness {
  engine: Engine;
  store: MemoryExecutionStore;
  workflows: MemoryWorkflowSource;
  calls: Map<string, number>;
  log: string[];
  clock: Clock;
  run(def: WorkflowDefinition, input?: unknown, timeoutMs?: number): Promise<ExecutionView>;
  node(view: ExecutionView, id: string): ExecutionView['nodeRuns'][number];
}

let wf = 0;
export function harness(opts: { clock?: Clock; options?: Partial<EngineOptions>; store?: MemoryExecutionStore; leases?: ExecutionLeases; calls?: Map<string, number>; observer?: EngineObserver } = {}): Harness {
  const calls = opts.calls ?? new Map<string, number>();
  const log: string[] = [];
  const catalog = testCatalog(calls, log);
  const store = opts.store ?? new MemoryExecutionStore();
  const workflows = new MemoryWorkflowSource();
  const clock = opts.clock ?? { now: () => Date.now(), setTimer: (ms: number, fn: () => void) => { const t = setTimeout(fn, ms); return () => clearTimeout(t); } };
  const engine = new Engine({ store, ...(opts.leases ? { leases: opts.leases } : {}), transport: new InProcessTransport(catalog), catalog, workflows, clock, options: opts.options, ...(opts.observer ? { observer: opts.observer } : {}) });
  const h: Harness = {
    engine, store, workflows, calls, log, clock,
    async run(def, input = {}, timeoutMs = 10_000) {
      const id = `wf-${++wf}`;
      workflows.put(id, 1, def);
      const { executionId } = await engine.start({ workflowId: id, version: 1, input });
      const view = await engine.whenFinished(executionId, timeoutMs);
      if (!view) throw new Error(`execution ${executionId} did not finish in ${timeoutMs} ms: ${JSON.stringify(engine.view(executionId))}`);
      return view;
    },
    node(view, id) {
      const n = view.nodeRuns.find((r) => r.nodeId === id);
      if (!n) throw new Error(`no node ${id}`);
      return n;
    },
  };
  return h;
}

export { ManualClock };
