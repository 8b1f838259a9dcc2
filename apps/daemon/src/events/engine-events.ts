import type { EventSink, ExecutionEvent } from '@anchorflow/engine';
import type { Logger } from 'pino';

/** DI token of the daemon's fan-out of engine events (EngineEvents): audit, metrics, logs, editor, receipts subscribe there. */
export const ENGINE_EVENTS = Symbol('ENGINE_EVENTS');

export type EngineEventListener = (event: ExecutionEvent) => void;

/**
 * The daemon's one fan-out of engine events (the engine's EventSink): the audit log, metrics, the
 * execution log, the editor's sockets and receipts subscribe here. Every event reaches every listener,
 * synchronously and in subscription order, as the engine emits it.
 *
 * It replaced Nest's EventBus for engine events (issue 18): an rxjs Subject, plus @nestjs/cqrs's event-id
 * lookup for its @EventsHandler filters, cost ~2–3 % of a webhook call's CPU for a plain loop over five
 * listeners. Workflow events (WorkflowChangedEvent) stay on the EventBus, where their handlers are.
 * A listener that throws is logged and does not keep the event from the others, nor from the engine.
 */
export class EngineEvents implements EventSink {
  /** replaced, never mutated: a listener that (un)subscribes during a publish does not disturb it */
  private listeners: readonly EngineEventListener[] = [];

  constructor(private readonly logger?: Pick<Logger, 'error'>) {}

  publish(event: ExecutionEvent): void {
    const listeners = this.listeners;
    for (let i = 0; i < listeners.length; i++) {
      try {
        listeners[i]!(event);
      } catch (err) {
        this.logger?.error({ err, eventType: event?.type, executionId: event?.executionId }, 'an engine event listener threw');
      }
    }
  }

  subscribe(listener: EngineEventListener): { unsubscribe(): void } {
    this.listeners = [...this.listeners, listener];
    return {
      unsubscribe: () => {
        this.listeners = this.listeners.filter((l) => l !== listener);
      },
    };
  }
}
