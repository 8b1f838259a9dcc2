import type { ExecutionEvent } from '../events/execution-events.js';

/** Live fan-out of execution events (socket.io, Nest EventBus, metrics). Must not throw or block. */
export interface EventSink {
  publish(event: ExecutionEvent): void;
}
