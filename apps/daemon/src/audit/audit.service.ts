import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit, Optional } from '@nestjs/common';
import type { ExecutionEvent } from '@anchorflow/engine';
import { Redactor, type AuditFields } from '@anchorflow/security';
import type { Logger } from 'pino';
import { AuthEvents, type AuthEvent } from '../auth/auth-events.js';
import type { AnchorflowConfig } from '../config/config.schema.js';
import { APP_CONFIG } from '../config/config.token.js';
import { ROOT_LOGGER } from '../logging/logging.tokens.js';
import type { SecretRegistry } from '../core/secret-registry.js';
import { SECRET_REGISTRY } from '../security/security.tokens.js';
import { type AuditItem, MAX_EXECUTIONS_PER_ENTRY, toAuditFields } from './audit-entries.js';
import { AUDIT_LOG_STORE, type AuditLogStore } from './audit-log.port.js';
import { AuditWriter, type AuditWriterStats } from './audit-writer.js';
import { ENGINE_EVENTS, type EngineEvents } from '../events/engine-events.js';

const isExecutionEvent = (event: unknown): event is ExecutionEvent =>
  typeof event === 'object' && event !== null && typeof (event as ExecutionEvent).executionId === 'string' && typeof (event as ExecutionEvent).seq === 'number' && typeof (event as ExecutionEvent).type === 'string';

/**
 * Feeds the audit log: every execution event (from the daemon's fan-out of engine events, EngineEvents)
 * and every successful state-changing API call (AuditHttpInterceptor). Both only buffer here —
 * one array push, off the request's and the engine's critical path; the AuditWriter appends in batches,
 * retries, and logs whatever it cannot write.
 *
 * Its listener cannot fail (it catches everything it could throw).
 * Shutdown: GracefulShutdown calls `close()` after the engine stopped and before the database closes.
 */
@Injectable()
export class AuditService implements OnModuleInit, OnApplicationShutdown {
  readonly writer: AuditWriter<AuditItem>;
  private subscription?: { unsubscribe(): void };
  /** events of this turn, by execution: one audit entry for them all (see executionsEventsFields) */
  private turn = new Map<string, ExecutionEvent[]>();
  private turnScheduled = false;
  private readonly logger: Logger;
  /** auth failures/denials per (kind, client) in the current window: how many were folded into the first one */
  private authWindow = new Map<string, { event: AuthEvent; repeated: number }>();
  private authTimer: NodeJS.Timeout | undefined;
  private stopAuth?: () => void;

  constructor(
    @Inject(AUDIT_LOG_STORE) readonly store: AuditLogStore,
    @Inject(APP_CONFIG) config: AnchorflowConfig,
    @Inject(ROOT_LOGGER) logger: Logger,
    @Inject(ENGINE_EVENTS) private readonly engineEvents: EngineEvents,
    @Optional() @Inject(SECRET_REGISTRY) secrets?: SecretRegistry,
    @Optional() private readonly authEvents?: AuthEvents,
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
      lingerMs: config.audit?.lingerMs,
    });
  }

  onModuleInit(): void {
    this.stopAuth = this.authEvents?.listen((event) => this.recordAuthEvent(event));
    this.subscription = this.engineEvents.subscribe((event) => {
      try {
        if (isExecutionEvent(event)) this.collect(event);
      } catch (err) {
        this.logger.error({ err }, 'could not queue an execution event for the audit log');
      }
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

  /** the turn's events: one entry per up to MAX_EXECUTIONS_PER_ENTRY executions (executionsEventsFields) */
  private endTurn(): void {
    this.turnScheduled = false;
    if (this.turn.size === 0) return;
    const groups = [...this.turn.values()];
    this.turn = new Map();
    for (let i = 0; i < groups.length; i += MAX_EXECUTIONS_PER_ENTRY) {
      try {
        this.writer.record(groups.slice(i, i + MAX_EXECUTIONS_PER_ENTRY));
      } catch (err) {
        this.logger.error({ err }, 'could not queue execution events for the audit log');
      }
    }
  }

  /**
   * A failed authentication or a denied call (issue 17). The first one per client and kind in a 10 s
   * window is written at once; the rest of the window is folded into one `repeated` entry at its end, so
   * a flood of bad keys costs at most two entries per client per window (and 1,000 clients per window;
   * beyond, they share one bucket). Never fails closed: while the buffer is saturated they are skipped
   * (still logged at info by the guard).
   */
  private recordAuthEvent(event: AuthEvent): void {
    if (this.writer.saturated) return;
    let key = `${event.kind}|${event.client}`;
    if (!this.authWindow.has(key) && this.authWindow.size >= 1000) key = `${event.kind}|*`;
    const seen = this.authWindow.get(key);
    if (seen) {
      seen.repeated++;
    } else {
      this.authWindow.set(key, { event, repeated: 0 });
      this.record(this.authFields(event, 1));
    }
    this.authTimer ??= setTimeout(() => this.endAuthWindow(), 10_000).unref();
  }

  private endAuthWindow(): void {
    this.authTimer = undefined;
    const window = this.authWindow;
    this.authWindow = new Map();
    for (const { event, repeated } of window.values()) if (repeated > 0) this.record(this.authFields(event, repeated, true));
  }

  private authFields(event: AuthEvent, count: number, repeated = false): AuditFields {
    const details: Record<string, string | number | boolean> = { client: event.client, method: event.method, route: event.route, count };
    if (repeated) details.repeated = true;
    if (event.code) details.code = event.code;
    if (event.role) details.role = event.role;
    if (event.permission) details.permission = event.permission;
    return {
      actor: event.keyId ? `key:${event.keyId}` : 'anonymous',
      action: event.kind === 'failed' ? 'auth.failed' : 'auth.denied',
      target: event.route,
      at: new Date(),
      details,
    };
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
    this.stopAuth?.();
    if (this.authTimer) clearTimeout(this.authTimer);
    this.endAuthWindow();
    this.endTurn();
    await this.writer.close(timeoutMs);
    // the sealed head of the last batch is written off the event loop: wait for it
    await (this.store as Partial<{ sealed(): Promise<void> }>).sealed?.();
  }

  async onApplicationShutdown(): Promise<void> {
    // normally closed by GracefulShutdown already; this only stops the subscription in contexts without it
    this.subscription?.unsubscribe();
    this.stopAuth?.();
    if (this.authTimer) clearTimeout(this.authTimer);
  }
}
