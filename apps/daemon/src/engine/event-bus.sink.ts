import type { EventBus } from '@nestjs/cqrs';
import type { EventSink, ExecutionEvent } from '@anchorflow/engine';
import type { Logger } from 'pino';

/** Forwards every engine event to Nest's EventBus (socket gateway, metrics). Never throws into the engine. */
export class EventBusSink implements EventSink {
  constructor(
    private readonly eventBus: EventBus,
    private readonly logger?: Logger,
  ) {}

  publish(event: ExecutionEvent): void {
    try {
      this.eventBus.publish(event);
    } catch (err) {
      this.logger?.error({ err, eventType: event.type, executionId: event.executionId }, 'event bus rejected an engine event');
    }
  }
}
