import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit, Optional } from '@nestjs/common';
import { EventBus } from '@nestjs/cqrs';
import type { ExecutionEvent } from '@anchorflow/engine';
import { Redactor, type AuditFields } from '@anchorflow/security';
import type { Logger } from 'pino';
import type { Subscription } from 'rxjs';
import type { AnchorflowConfig } from '../config/config.schema.js';
import { APP_CONFIG } from '../config/config.token.js';
import { ROOT_LOGGER } from '../logging/logging.tokens.js';
import type { SecretRegistry } from '../core/secret-registry.js';
import { SECRET_REGISTRY } from '../security/security.tokens.js';
import { type AuditItem, toAuditFields } from './audit-entries.js';
import { AUDIT_LOG_STORE, type AuditLogStore } from './audit-log.port.js';
import { AuditWriter, type AuditWriterStats } from './audit-writer.js';

const isExecutionEvent = (event: unknown): event is ExecutionEvent =>
  typeof event === 'object' && event !== null && typeof (event as ExecutionEvent).executionId === 'string' && typeof (event as ExecutionEvent).seq === 'number' && typeof (event as ExecutionEvent).type === 'string';

/**
 * Feeds the audit log: every execution event (taken off the EventBus, where EventBusSink puts the engine's
 * events) and every successful state-changing API call (AuditHttpInterceptor). Both only buffer here —
 * one array push, off the request's and the engine's critical path; the AuditWriter appends in batches,
 * retries, and logs whatever it cannot write.
 *
 * It subscribes to the bus directly rather than through an @EventsHandler: a handler costs a promise and
 * an rxjs pipe per event, and this subscriber cannot fail (it catches everything it could throw).
 * Shutdown: GracefulShutdown calls `close()` after the engine stopped and before the database closes.
 */
@Injectable()
export class AuditService implements OnModuleInit, OnApplicationShutdown {
  readonly writer: AuditWriter<AuditItem>;
  private subscription?: Subscription;
  /** events of this turn, per execution: one audit entry each (see executionEventsFields) */
  private turn = new Map<string, ExecutionEvent[]>();
  private turnScheduled = false;
  private readonly logger: Logger;

  constructor(
    @Inject(AUDIT_LOG_STORE) readonly store: AuditLogStore,
    @Inject(APP_CONFIG) config: AnchorflowConfig,
    @Inject(ROOT_LOGGER) logger: Logger,
    private readonly eventBus: EventBus,
    @Optional() @Inject(SECRET_REGISTRY) secrets?: SecretRegistry,
  ) {
    this.logger = logger.child({ component: 'audit' });
    // the log redactor (secrets by value, sensitive keys, secret shapes): over-redaction costs nothing here,
    // and a secret hashed into the chain could never be scrubbed
    const redactor = secrets?.logs ?? new Redactor();
    this.writer = new AuditWriter<AuditItem>({
      store,
      toFields: (item) => toAuditFields(item, redactor),
      logger: this.logger,
      maxBatch: config.audit?.maxBatch,
      maxPending: config.audit?.maxPending,
    });
  }

  onModuleInit(): void {
    this.subscription = this.eventBus.subscribe({
      next: (event: unknown) => {
        try {
          if (isExecutionEvent(event)) this.collect(event);
        } catch (err) {
          this.logger.error({ err }, 'could not queue an execution event for the audit log');
        }
      },
    });
  }

  private collect(event: ExecutionEvent): void {
    const list = this.turn.get(event.executionId);
    if (list) list.push(event);
    else this.turn.set(event.executionId, [event]);
    if (!this.turnScheduled) {
      this.turnScheduled = true;
      setImmediate(() => this.endTurn());
    }
  }

  private endTurn(): void {
    this.turnScheduled = false;
    const groups = this.turn;
    this.turn = new Map();
    for (const events of groups.values()) {
      try {
        this.writer.record(events);
      } catch (err) {
        this.logger.error({ err }, 'could not queue execution events for the audit log');
      }
    }
  }

  /** One entry for something that is not an execution event (an API call, a CLI action). */
  record(fields: AuditFields): void {
    try {
      this.writer.record(fields);
    } catch (err) {
      this.logger.error({ err, action: fields.action }, 'could not queue an audit entry');
    }
  }

  /** Resolves when everything recorded so far is in the database. */
  flush(): Promise<void> {
    this.endTurn();
    return this.writer.flush();
  }

  stats(): AuditWriterStats {
    return this.writer.stats();
  }

  /** Writes what is buffered (up to `timeoutMs`), then refuses new entries. */
  async close(timeoutMs?: number): Promise<void> {
    this.subscription?.unsubscribe();
    this.endTurn();
    await this.writer.close(timeoutMs);
    // the sealed head of the last batch is written off the event loop: wait for it
    await (this.store as Partial<{ sealed(): Promise<void> }>).sealed?.();
  }

  async onApplicationShutdown(): Promise<void> {
    // normally closed by GracefulShutdown already; this only stops the subscription in contexts without it
    this.subscription?.unsubscribe();
  }
}
