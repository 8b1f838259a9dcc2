import type { CredentialsAccessor, NodeDefinition, NodeLogger, PluginState } from './node.js';
import { defineNode } from './node.js';
import type { ParamsClass } from './params.js';

export interface TriggerContext<P = Record<string, unknown>> {
  readonly params: P;
  readonly workflowId: string;
  readonly nodeId: string;
  readonly logger: NodeLogger;
  readonly credentials: CredentialsAccessor;
  /** plugin-owned durable state, e.g. an observer's block cursor */
  readonly state: PluginState;
  /** aborted when the workflow is deactivated or the daemon stops */
  readonly signal: AbortSignal;
  /** epoch ms on the engine's clock (tests drive it; never read Date.now() in a trigger) */
  now(): number;
  /** resolves once now() has reached `at` (epoch ms), or at once when `signal` is aborted (it never rejects) */
  sleepUntil(at: number): Promise<void>;
  /**
   * Names this activation of the workflow: the same across daemon restarts and failovers, different after
   * the workflow is deactivated and activated again or changed. A source that catches up on what it missed
   * while no daemon ran keeps its cursor under this, so it does not catch up on the time it was switched off.
   */
  readonly activation: string;
  /** NATS subscriptions; present only when the daemon runs in cluster mode (NATS configured) */
  readonly messaging?: TriggerMessaging;
}

/** A message a NATS-subject trigger received. */
export interface TriggerMessage {
  subject: string;
  /** the payload's bytes */
  data: Uint8Array;
  /** header name → values (NATS headers may repeat) */
  headers: Record<string, string[]>;
  /** a stable id for the message when it came from a JetStream stream (`<stream>:<sequence>`), for dedupe keys */
  id?: string;
}

export interface SubscribeOptions {
  /** the members of one queue group share the messages (each message reaches one of them) */
  queueGroup?: string;
  /**
   * A durable JetStream consumer of this name keeps the messages that arrive while no daemon runs; they
   * are delivered (at least once) when one subscribes again. Without it: plain core NATS, at most once.
   */
  durable?: string;
}

/**
 * NATS for trigger sources. `handler` is awaited before a durable message is acknowledged: a message
 * whose handler threw or was cut short by a crash is delivered again.
 */
export interface TriggerMessaging {
  subscribe(subject: string, options: SubscribeOptions, handler: (message: TriggerMessage) => Promise<void>): Promise<() => Promise<void>>;
}

export interface FireOptions {
  /** the same key never starts two executions of this workflow (e.g. a transaction hash) */
  dedupeKey?: string;
}

export type Fire = (payload: unknown, options?: FireOptions) => Promise<{ executionId: string; duplicate: boolean }>;

export interface TriggerDefinition<P extends object = any> {
  type: string;
  version: number;
  title: string;
  description?: string;
  params?: ParamsClass<P>;
  /**
   * Where the source can run: `cluster` sources need NATS (ctx.messaging); activating a workflow with one
   * on a daemon without NATS is refused. Default: `any`.
   */
  requires?: 'any' | 'cluster';
  /** start the long-lived source; return a function that stops it */
  start(ctx: TriggerContext<P>, fire: Fire): Promise<() => Promise<void> | void> | (() => Promise<void> | void);
}

/** A trigger is a start node (it passes the fired payload on) plus a long-lived source started on activation. */
export type TriggerNodeDefinition<P extends object = any> = NodeDefinition<P> & { trigger: TriggerDefinition<P> };

export function defineTrigger<P extends object>(def: TriggerDefinition<P>): TriggerNodeDefinition<P> {
  const node = defineNode<P>({
    type: def.type,
    version: def.version,
    title: def.title,
    description: def.description,
    category: 'trigger',
    inputs: [],
    outputs: ['main'],
    params: def.params,
    pure: true,
    execute: (_ctx, input) => ({ main: input }),
  });
  return Object.freeze({ ...node, trigger: def });
}

export function isTriggerNode(def: NodeDefinition): def is TriggerNodeDefinition {
  return typeof (def as Partial<TriggerNodeDefinition>).trigger === 'object';
}

/** A clock a trigger context is built on: the engine's in the daemon, a manual one in tests. */
export interface TriggerClock {
  now(): number;
  /** runs fn after ms; returns a cancel function */
  setTimer(ms: number, fn: () => void): () => void;
}

/**
 * `ctx.sleepUntil` on a clock: re-arms until now() has really reached `at` (a real timer may be capped
 * or wake early) and resolves at once when the signal is aborted.
 */
export function sleepUntilOn(clock: TriggerClock, signal: AbortSignal, at: number): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    let cancel = (): void => {};
    const done = (): void => {
      cancel();
      signal.removeEventListener('abort', done);
      resolve();
    };
    const arm = (): void => {
      const left = at - clock.now();
      if (left <= 0) return done();
      cancel = clock.setTimer(left, arm);
    };
    signal.addEventListener('abort', done, { once: true });
    arm();
  });
}
