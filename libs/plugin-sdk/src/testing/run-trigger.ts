import { NodeError } from '../errors.js';
import type { NodeLogger, PluginState } from '../node.js';
import { validateParams } from '../params.js';
import { type TriggerClock, type TriggerContext, type TriggerMessaging, type TriggerNodeDefinition, sleepUntilOn } from '../trigger.js';
import { MemoryPluginState } from './memory-plugin-state.js';

/**
 * A clock a test moves by hand (for ctx.now() and ctx.sleepUntil of triggers): `advance` fires the
 * timers it passes in time order, letting the promise queue settle after each.
 */
export class ManualTriggerClock implements TriggerClock {
  private t: number;
  private timers: Array<{ at: number; fn: () => void; id: number }> = [];
  private nextId = 0;
  constructor(start: number | string | Date) {
    this.t = typeof start === 'number' ? start : new Date(start).getTime();
  }
  now(): number {
    return this.t;
  }
  setTimer(ms: number, fn: () => void): () => void {
    const id = this.nextId++;
    this.timers.push({ at: this.t + Math.max(0, ms), fn, id });
    return () => {
      this.timers = this.timers.filter((x) => x.id !== id);
    };
  }
  /** moves time forward by ms (or to an instant), firing due timers one by one */
  async advance(to: number | string | Date): Promise<void> {
    const target = typeof to === 'number' ? this.t + to : new Date(to).getTime();
    for (;;) {
      await settle();
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.timers[0];
      if (!next || next.at > target) break;
      this.timers.shift();
      this.t = Math.max(this.t, next.at);
      next.fn();
    }
    this.t = Math.max(this.t, target);
    await settle();
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

export interface RunTriggerOptions {
  params?: Record<string, unknown>;
  workflowId?: string;
  nodeId?: string;
  /** default: a ManualTriggerClock at the current time */
  clock?: TriggerClock;
  /** share it between runs to see what a source kept across a "restart" */
  state?: PluginState;
  /** ctx.activation (default `v1`); change it to act out a deactivate + activate */
  activation?: string;
  credentials?: Record<string, Record<string, unknown>>;
  messaging?: TriggerMessaging;
  /** the engine's dedupe keys (share between runs to act out one workflow's executions) */
  dedupe?: Set<string>;
}

export interface RunningTrigger {
  ctx: TriggerContext;
  /** every fire() that started an execution (duplicates by dedupe key left out), in order */
  fired: Array<{ payload: unknown; dedupeKey?: string }>;
  /** fire() calls suppressed by their dedupe key */
  duplicates: Array<{ payload: unknown; dedupeKey?: string }>;
  logs: Array<{ level: string; msg: string; fields?: Record<string, unknown> }>;
  /** aborts ctx.signal and calls the source's stop function (once) */
  stop(): Promise<void>;
}

/** Starts a trigger's long-lived source the way the daemon would, without one; stop() it at the end. */
export async function runTrigger(def: TriggerNodeDefinition, options: RunTriggerOptions = {}): Promise<RunningTrigger> {
  const { value: params, problems } = validateParams(def.params, options.params ?? {});
  if (problems.length) throw new NodeError(`invalid params: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`, 'INVALID_PARAMS', problems);
  const clock = options.clock ?? new ManualTriggerClock(Date.now());
  const abort = new AbortController();
  const fired: RunningTrigger['fired'] = [];
  const duplicates: RunningTrigger['duplicates'] = [];
  const dedupe = options.dedupe ?? new Set<string>();
  const logs: RunningTrigger['logs'] = [];
  const log = (level: string) => (msg: string, fields?: Record<string, unknown>) => void logs.push({ level, msg, ...(fields ? { fields } : {}) });
  const logger: NodeLogger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
  const creds = options.credentials ?? {};
  let n = 0;
  const ctx: TriggerContext = {
    params,
    workflowId: options.workflowId ?? 'wf-test',
    nodeId: options.nodeId ?? 'trigger',
    logger,
    credentials: {
      get: async <T extends object>(ref: string) => {
        const c = creds[ref];
        if (!c) throw new NodeError(`credential "${ref}" not found`, 'CREDENTIAL_NOT_FOUND');
        return c as T;
      },
    },
    state: options.state ?? new MemoryPluginState(),
    signal: abort.signal,
    now: () => clock.now(),
    sleepUntil: (at) => sleepUntilOn(clock, abort.signal, at),
    activation: options.activation ?? 'v1',
    ...(options.messaging ? { messaging: options.messaging } : {}),
  };
  const stopFn = await def.trigger.start(ctx, async (payload, fireOptions) => {
    const entry = { payload, ...(fireOptions?.dedupeKey !== undefined ? { dedupeKey: fireOptions.dedupeKey } : {}) };
    if (fireOptions?.dedupeKey !== undefined) {
      if (dedupe.has(fireOptions.dedupeKey)) {
        duplicates.push(entry);
        return { executionId: 'duplicate', duplicate: true };
      }
      dedupe.add(fireOptions.dedupeKey);
    }
    fired.push(entry);
    return { executionId: `exec-${++n}`, duplicate: false };
  });
  let stopped: Promise<void> | undefined;
  return {
    ctx,
    fired,
    duplicates,
    logs,
    stop: () =>
      (stopped ??= (async () => {
        abort.abort(new Error('trigger stopped'));
        await stopFn();
      })()),
  };
}
