import type { AuditFields, AuditHead } from '@anchorflow/security';
import type { AuditLogStore } from './audit-log.port.js';

export interface AuditWriterLogger {
  error(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  info?(fields: Record<string, unknown>, message: string): void;
}

export interface AuditWriterOptions<T> {
  store: AuditLogStore;
  /** turns a recorded item into the entry's fields (redacted, storable); called at flush time, off the caller's path */
  toFields: (item: T) => AuditFields;
  logger: AuditWriterLogger;
  /** most entries in one append (one transaction); default 2,000 */
  maxBatch?: number;
  /** items held while the store does not take them; beyond, new items are dropped (and counted, logged); default 200,000 */
  maxPending?: number;
  /** first retry delay after a failed append, doubling up to retryMaxMs; default 100 ms */
  retryInitialMs?: number;
  /** default 5,000 ms */
  retryMaxMs?: number;
  /**
   * How long a batch may wait for more entries when nobody waits for it to be committed; default 0 (the
   * next turn of the event loop). A caller of `recordDurable` or `flush` cuts the wait short.
   */
  lingerMs?: number;
}

export interface AuditWriterStats {
  /** entries committed by this process */
  written: number;
  /** committed appends (each one transaction) */
  batches: number;
  failedBatches: number;
  /** recorded, not committed yet */
  pending: number;
  /** how long the oldest entry not yet committed has waited (0 when none): the audit lag */
  oldestPendingMs: number;
  /** refused because maxPending was reached or the writer was closed */
  dropped: number;
  /** entries whose details had to be replaced because the database refused them */
  replacedDetails: number;
  lastBatchMs: number;
  head: AuditHead | null;
}

interface Waiter {
  mark: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

const isDataError = (error: unknown): boolean => {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && code.startsWith('22');
};

/**
 * Buffers audit items and appends them in batches, one writer per process (group commit): `record` only
 * pushes onto an array, never throws and never waits; a flush starts on the next turn of the event loop
 * when none is in flight, so batches grow with load while a lone entry costs one round trip.
 *
 * Nothing is lost silently: a failed append is retried with exponential backoff (entries stay in order
 * at the head of the buffer, and the chain is re-read from the store on every attempt), every failure is
 * logged, and what cannot be kept (buffer full, writer closed, close timed out) is logged as an error and
 * counted in `stats().dropped`. A batch the database refuses for its data (SQLSTATE class 22, which
 * `toStorableJson` should make impossible) is retried entry by entry and the offending entry's details
 * are replaced by a marker, so one bad entry cannot block the log.
 *
 * A SIGKILL loses what is still buffered (at most one flush's worth): the execution events themselves
 * are durable in execution_event, which stays the source of truth.
 */
export class AuditWriter<T> {
  private readonly store: AuditLogStore;
  private readonly toFields: (item: T) => AuditFields;
  private readonly logger: AuditWriterLogger;
  private readonly maxBatch: number;
  private readonly maxPending: number;
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;
  private readonly lingerMs: number;
  private lingerTimer: NodeJS.Timeout | undefined;

  private buffer: T[] = [];
  /** when each buffered entry was recorded (epoch ms), for the lag metric */
  private bufferedAt: number[] = [];
  /** fields already computed for the head of the buffer (kept across retries so `at` and details stay fixed) */
  private prepared: AuditFields[] = [];
  private recorded = 0;
  private committed = 0;
  private waiters: Waiter[] = [];
  private flushing = false;
  private scheduled = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  /** entries still to write one by one after a batch was refused for its data */
  private isolateRemaining = 0;
  private closed = false;
  private closing: Promise<void> | undefined;
  private readonly counters = { written: 0, batches: 0, failedBatches: 0, dropped: 0, replacedDetails: 0, lastBatchMs: 0 };
  private lastHead: AuditHead | null = null;
  private droppedSinceLog = 0;

  constructor(options: AuditWriterOptions<T>) {
    this.store = options.store;
    this.toFields = options.toFields;
    this.logger = options.logger;
    this.maxBatch = options.maxBatch ?? 2000;
    this.maxPending = options.maxPending ?? 200_000;
    this.retryInitialMs = options.retryInitialMs ?? 100;
    this.retryMaxMs = options.retryMaxMs ?? 5000;
    this.lingerMs = options.lingerMs ?? 0;
  }

  /**
   * The buffer is (nearly) full: the store has not taken entries for a while. Callers that can refuse
   * work (the API's state-changing requests) refuse it rather than have its audit entry dropped.
   */
  get saturated(): boolean {
    return this.closed || this.buffer.length >= Math.floor(this.maxPending * 0.9);
  }

  /** Queues one entry. Cheap and synchronous; never throws. */
  record(item: T): void {
    if (this.closed || this.buffer.length >= this.maxPending) {
      this.drop(this.closed ? 'the audit writer is closed' : `more than ${this.maxPending} audit entries are waiting for the database`);
      return;
    }
    this.buffer.push(item);
    this.bufferedAt.push(Date.now());
    this.recorded++;
    this.schedule();
  }

  /**
   * Queues one entry and resolves once it is committed (group commit: it shares the next append with
   * whatever else is buffered). Rejects — and the caller must then not make the change — when the buffer
   * is saturated, the writer is closed, or the entry is not committed within `timeoutMs`; the entry then
   * may still be written later (it says what was attempted, not that it happened).
   */
  recordDurable(item: T, timeoutMs = 5000): Promise<void> {
    if (this.saturated) return Promise.reject(new Error(this.closed ? 'the audit writer is closed' : 'the audit buffer is saturated'));
    this.record(item);
    const mark = this.recorded;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`the audit entry was not committed within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      const waiter: Waiter = { mark, resolve: () => { clearTimeout(timer); resolve(); }, reject: (e) => { clearTimeout(timer); reject(e); } };
      this.waiters.push(waiter);
      this.hurry();
    });
  }

  /** Resolves once everything recorded before the call is committed (rejects if it is dropped at close). */
  flush(): Promise<void> {
    const mark = this.recorded;
    if (this.committed >= mark) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push({ mark, resolve, reject });
      this.hurry();
    });
  }

  /**
   * Writes what is buffered (retrying until `timeoutMs`), then refuses new entries. What is still not
   * written at the deadline is logged as lost; the promise still resolves, so shutdown goes on.
   */
  close(timeoutMs = 10_000): Promise<void> {
    this.closing ??= this.drain(timeoutMs);
    return this.closing;
  }

  stats(): AuditWriterStats {
    return { ...this.counters, pending: this.buffer.length, oldestPendingMs: this.bufferedAt.length ? Date.now() - this.bufferedAt[0]! : 0, head: this.lastHead };
  }

  private async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.buffer.length > 0 && Date.now() < deadline) {
      if (this.retryTimer) {
        // don't wait out a long backoff at shutdown
        clearTimeout(this.retryTimer);
        this.retryTimer = undefined;
        this.schedule();
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.flush().catch(() => undefined),
        new Promise<void>((r) => { timer = setTimeout(r, Math.max(0, Math.min(250, deadline - Date.now()))); }),
      ]);
      clearTimeout(timer);
    }
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    const lost = this.buffer.length;
    if (lost > 0) {
      this.counters.dropped += lost;
      this.logger.error({ event: 'audit.lost', lost, timeoutMs }, `${lost} audit entries could not be written before shutdown and are lost`);
      this.buffer = [];
      this.bufferedAt = [];
      this.prepared = [];
      const error = new Error(`${lost} audit entries were not written`);
      for (const w of this.waiters.splice(0)) w.reject(error);
    }
  }

  private drop(reason: string): void {
    this.counters.dropped++;
    // one line per burst, not one per entry
    if (this.droppedSinceLog++ === 0) {
      setTimeout(() => {
        if (this.droppedSinceLog > 0) this.logger.error({ event: 'audit.dropped', dropped: this.droppedSinceLog, totalDropped: this.counters.dropped, reason }, `${this.droppedSinceLog} audit entries dropped: ${reason}`);
        this.droppedSinceLog = 0;
      }, 1000).unref();
    }
  }

  private schedule(): void {
    if (this.scheduled || this.flushing || this.retryTimer) return;
    this.scheduled = true;
    if (this.lingerMs > 0 && this.waiters.length === 0) {
      this.lingerTimer = setTimeout(() => {
        this.lingerTimer = undefined;
        this.scheduled = false;
        void this.runFlush();
      }, this.lingerMs);
      return;
    }
    setImmediate(() => {
      this.scheduled = false;
      void this.runFlush();
    });
  }

  /** someone waits for a commit: a lingering batch goes now */
  private hurry(): void {
    if (!this.lingerTimer) return;
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    this.scheduled = false;
    this.schedule();
  }

  private prepare(count: number): AuditFields[] {
    while (this.prepared.length < count) {
      const item = this.buffer[this.prepared.length]!;
      let fields: AuditFields;
      try {
        fields = this.toFields(item);
      } catch (err) {
        // a bug in a mapper must not lose the entry: keep what can be said about it
        fields = { actor: 'system', action: 'audit.unmappable', target: 'audit', details: { error: String((err as Error)?.message ?? err) } };
      }
      this.prepared.push(fields);
    }
    return this.prepared.slice(0, count);
  }

  private async runFlush(): Promise<void> {
    if (this.flushing || this.buffer.length === 0) return;
    this.flushing = true;
    const count = this.isolateRemaining > 0 ? 1 : Math.min(this.maxBatch, this.buffer.length);
    const t0 = Date.now();
    try {
      const fields = this.prepare(count);
      let head: AuditHead;
      try {
        head = await this.store.append(fields);
      } catch (error) {
        if (!isDataError(error)) throw error;
        if (count > 1) {
          this.isolateRemaining = count;
          throw error;
        }
        // one entry the database refuses for its data: keep the fact, drop the details
        const only = fields[0]!;
        this.prepared[0] = { ...only, details: { auditError: `details could not be stored (SQLSTATE ${(error as { code?: string }).code})` } };
        this.counters.replacedDetails++;
        this.logger.error({ event: 'audit.details-replaced', action: only.action, target: only.target, err: error }, 'the database refused an audit entry\'s details; they were replaced by a marker');
        head = await this.store.append(this.prepared.slice(0, 1));
      }
      this.buffer.splice(0, count);
      this.bufferedAt.splice(0, count);
      this.prepared.splice(0, count);
      this.committed += count;
      this.counters.written += count;
      this.counters.batches++;
      this.counters.lastBatchMs = Date.now() - t0;
      this.lastHead = head;
      if (this.failures > 0) this.logger.warn({ event: 'audit.recovered', afterFailures: this.failures }, 'audit log writes succeed again');
      this.failures = 0;
      if (this.isolateRemaining > 0) this.isolateRemaining--;
      this.settleWaiters();
    } catch (error) {
      this.counters.failedBatches++;
      this.failures++;
      const delay = Math.min(this.retryMaxMs, this.retryInitialMs * 2 ** Math.min(this.failures - 1, 16));
      // every failure is logged; the message says that nothing is lost yet
      this.logger.error({ event: 'audit.write-failed', err: error, pending: this.buffer.length, attempt: this.failures, retryInMs: delay },
        `could not write ${count} audit entries (${this.buffer.length} waiting); retrying in ${delay} ms`);
      this.flushing = false;
      if (!this.closed) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          void this.runFlush();
        }, delay);
      }
      return;
    }
    this.flushing = false;
    if (this.buffer.length > 0) this.schedule();
  }

  private settleWaiters(): void {
    if (this.waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (this.committed >= w.mark) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }
}
