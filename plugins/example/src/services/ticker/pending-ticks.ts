/**
 * The contract between the example.next-tick node and the ticker service, in plugin state: the node
 * writes `waiting/<token>` and suspends on the token; the service resumes every waiting token on its next
 * tick and deletes the entry.
 */
export const WAITING_PREFIX = 'waiting/';
export const TICK_COUNT_KEY = 'ticker/count';

export interface WaitingTick {
  token: string;
  /** ticks on which ctx.resume() found no node waiting (the suspension not yet recorded, or cancelled) */
  misses?: number;
}

/** the one resume token of a node attempt: stable across retries and restarts (the idempotency key is) */
export const tickToken = (idempotencyKey: string): string => `example.tick:${idempotencyKey}`;

/** what a woken node gets as ctx.resume.data */
export interface Tick {
  /** the ticker's count, durable across restarts and daemons */
  tick: number;
  /** epoch ms of the tick (the engine's clock) */
  at: number;
}
