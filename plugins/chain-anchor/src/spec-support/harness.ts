import { MemoryPluginState, runNode } from '@anchorflow/plugin-sdk/testing';
import type { HealthReport, NodeLogger } from '@anchorflow/plugin-sdk';
import { anchorNode } from '../nodes/anchor.node.js';
import { AnchorService, type AnchorServiceContext } from '../service.js';

export const quietLogger = (sink?: Array<{ level: string; msg: string; fields?: Record<string, unknown> }>): NodeLogger => {
  const log = (level: string) => (msg: string, fields?: Record<string, unknown>) => void sink?.push({ level, msg, fields });
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
};

/**
 * A service context like the daemon's: durable state shared with the nodes, and resume() that only
 * succeeds for a token a node is suspended on (what the engine does).
 */
export function serviceHarness(config: unknown, credentials: Record<string, Record<string, unknown>>, state = new MemoryPluginState()) {
  const waiting = new Set<string>();
  const resumed = new Map<string, unknown>();
  const logs: Array<{ level: string; msg: string; fields?: Record<string, unknown> }> = [];
  const abort = new AbortController();
  const health = new Map<string, HealthReport>();
  const ctx: AnchorServiceContext = {
    config,
    logger: quietLogger(logs),
    credentials: { get: async <T extends object>(ref: string) => (credentials[ref] ?? Promise.reject(new Error(`credential ${ref} not found`))) as T },
    state,
    signal: abort.signal,
    now: () => Date.now(),
    health: { report: (name, r) => void health.set(name, r), clear: (name) => void health.delete(name) },
    resume: async (token, data) => {
      if (!waiting.has(token)) return false;
      waiting.delete(token);
      resumed.set(token, data);
      return true;
    },
  };
  return { ctx, state, waiting, resumed, logs, abort, health, service: () => new AnchorService(ctx) };
}

/** runs chain.anchor like the engine: first attempt suspends (token registered), the resumed run outputs the proof */
export async function anchorItem(h: ReturnType<typeof serviceHarness>, key: string, data: unknown, network = 'local') {
  const r = await runNode(anchorNode, { params: { network }, input: data, idempotencyKey: key, state: h.state });
  if (r.kind !== 'suspend') throw new Error(`expected suspension, got ${JSON.stringify(r)}`);
  h.waiting.add(r.suspension.token!);
  return r.suspension.token!;
}

export async function resumeItem(h: ReturnType<typeof serviceHarness>, key: string, token: string, network = 'local') {
  const r = await runNode(anchorNode, { params: { network }, input: {}, idempotencyKey: key, state: h.state, resume: { reason: 'signal', data: h.resumed.get(token), suspendedAt: 0 } });
  if (r.kind !== 'output') throw new Error('expected output');
  return (r.outputs.main as { proof: unknown }).proof;
}

/** steps the service until `done` holds, failing after the deadline (each step waits on the chain, not on a timer) */
export async function stepUntil(service: AnchorService, done: () => boolean | Promise<boolean>, deadlineMs = 20_000, between?: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error('condition not reached before the deadline');
    const more = await service.tickAll();
    if (!more && between) await between();
    // a macrotask turn: a step may be all microtasks (memory state, results from the SSE stream), and the
    // stream's sockets are only read when the event loop gets to I/O
    if (!more) await new Promise((r) => setImmediate(r));
  }
}
