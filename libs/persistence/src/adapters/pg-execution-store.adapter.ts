import { EngineError, type ExecutionEvent, type ExecutionStore, type ExecutionView } from '@anchorflow/engine';
import type { DatabaseLogger } from '../database/database-logger.js';
import type { SqlPool } from '../database/sql-pool.js';
import { isUuid, ms, readEvents, readExecution, TERMINAL_STATUSES_SQL } from './execution-rows.js';
import { buildFlushStatement, dedupeSlot, type HistoryHeads, type PendingExecution } from './flush-statement.js';

/** the flush statement lives in flush-statement.ts; re-exported for bench/flush-explain.js */
export { buildFlushStatement };

export interface PgExecutionStoreOptions {
  /** upper bound of events in one flush (whole executions are kept together); default 2,000, past which a flush got slower per event here */
  maxBatchEvents?: number;
  /** delay before retrying a failed flush, doubling up to `retryMaxMs`; default 50 ms */
  retryInitialMs?: number;
  /** default 2,000 ms */
  retryMaxMs?: number;
  logger?: Partial<DatabaseLogger>;
  /**
   * this daemon's id for leases; must be stable across restarts (so a restarted daemon resumes its own
   * executions at once) and distinct between daemons sharing the database. Default 'local'.
   */
  owner?: string;
  /** how long a lease lasts without renewal; another daemon takes over after that. Default 15 s. */
  leaseMs?: number;
  /** told after every committed group-commit flush (metrics: batch size, flush latency); keep it cheap */
  onFlush?: (flush: { events: number; executions: number; seconds: number }) => void;
  /**
   * hash-chain every event (execution receipts, libs/engine history-chain.ts); default true. false only
   * for the benchmark that measures the chain's cost: histories written so have no receipts.
   */
  historyChain?: boolean;
}

export interface ExecutionStoreStats {
  /** committed flushes (each one transaction) */
  flushes: number;
  failedFlushes: number;
  eventsWritten: number;
  /** projection rows upserted */
  projectionsWritten: number;
  /** most events committed by one flush */
  largestFlushEvents: number;
  /** appended, not yet committed */
  pendingEvents: number;
  /** duration of the last committed flush */
  lastFlushMs: number;
}


interface Waiter {
  mark: number;
  resolve: () => void;
  reject: (error: Error) => void;
}


/** rows nobody else holds: no owner, an expired lease, or ours ($3 = this daemon) */
export const CLAIMABLE_SQL = `(owner IS NULL OR owner = $3 OR lease_expires_at IS NULL OR lease_expires_at < now())`;

/** Errors caused by the data of some execution rather than the connection (SQLSTATE classes 22, 23). */
function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

/**
 * The ExecutionStore on PostgreSQL with group commit: `append` only buffers; a flush starts on the next
 * turn of the event loop when none is in flight, and appends made while one is in flight wait for the
 * next. Batches therefore grow with load while a lone append costs one round trip.
 */
export class PgExecutionStore implements ExecutionStore {
  private readonly pool: SqlPool;
  private readonly maxBatchEvents: number;
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;
  private readonly logger: Partial<DatabaseLogger>;
  private readonly owner: string;
  private readonly leaseMs: number;

  /** not yet in a flush, in order of first append */
  private pending = new Map<string, PendingExecution>();
  private inflight: Map<string, PendingExecution> | undefined;
  private appends = 0;
  private waiters: Waiter[] = [];
  private flushScheduled = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private consecutiveFailures = 0;
  /** set by a data error (SQLSTATE 22/23, a throwing view): flush execution by execution until clean */
  private isolate = false;
  private closed = false;
  private closing: Promise<void> | undefined;
  /** dedupe keys of started executions not committed yet (findByDedupeKey must see them) */
  private readonly pendingDedupe = new Map<string, string>();
  private readonly counters: Omit<ExecutionStoreStats, 'pendingEvents'> = {
    flushes: 0, failedFlushes: 0, eventsWritten: 0, projectionsWritten: 0, largestFlushEvents: 0, lastFlushMs: 0,
  };

  private readonly onFlush: PgExecutionStoreOptions['onFlush'];
  /**
   * the last hash written per unfinished execution, set when a flush statement is built (undefined: no
   * chain). Seeded by `events()` (recovery, takeover and reloading a waiting execution all read the
   * history first); an execution appended to without that is looked up before the flush (`missingHeads`).
   */
  private readonly heads: HistoryHeads | undefined;
  private readonly missingHeads = new Set<string>();
  private loadingHeads = false;

  constructor(db: { pool: SqlPool }, options: PgExecutionStoreOptions = {}) {
    this.pool = db.pool;
    this.maxBatchEvents = options.maxBatchEvents ?? 2_000;
    this.retryInitialMs = options.retryInitialMs ?? 50;
    this.retryMaxMs = options.retryMaxMs ?? 2_000;
    this.logger = options.logger ?? {};
    this.owner = options.owner ?? 'local';
    this.leaseMs = options.leaseMs ?? 15_000;
    this.onFlush = options.onFlush;
    this.heads = options.historyChain === false ? undefined : new Map();
  }

  append(events: readonly ExecutionEvent[], view: () => ExecutionView): void {
    if (this.closed) throw new EngineError('SHUTTING_DOWN', 'the execution store is closed');
    const executionId = events[0]?.executionId ?? view().id;
    const mark = ++this.appends;
    let entry = this.pending.get(executionId);
    if (!entry) {
      entry = { executionId, events: [], view, firstAppend: mark };
      this.pending.set(executionId, entry);
      const firstSeq = events[0]?.seq;
      if (this.heads && firstSeq !== undefined && firstSeq > 1 && this.heads.get(executionId)?.seq !== firstSeq - 1) this.missingHeads.add(executionId);
    }
    for (const event of events) {
      entry.events.push(event);
      if (event.type === 'execution.started' && event.dedupeKey !== undefined) {
        this.pendingDedupe.set(dedupeSlot(event.workflowId, event.dedupeKey), executionId);
      }
    }
    entry.view = view;
    this.scheduleFlush();
  }

  durable(): Promise<void> {
    const mark = this.appends;
    if (this.lowestUncommitted() > mark) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ mark, resolve, reject }));
  }

  async events(executionId: string): Promise<ExecutionEvent[]> {
    const events = await readEvents(this.pool, executionId, 0, undefined, this.heads !== undefined);
    if (!this.heads) return events;
    const last = events[events.length - 1] as (ExecutionEvent & { hash?: string }) | undefined;
    // a read older than what this store already built (a flush raced the query) must not roll the head back
    if (last && last.type !== 'execution.finished' && typeof last.hash === 'string' && (this.heads.get(executionId)?.seq ?? 0) <= last.seq) {
      this.heads.set(executionId, { seq: last.seq, hash: last.hash });
    }
    for (const e of events) delete (e as { hash?: string }).hash;
    return events;
  }

  /** one query for the heads appends need but this store never saw (rare: see `heads`) */
  private async loadMissingHeads(): Promise<void> {
    const ids = [...this.missingHeads].filter((id) => isUuid(id));
    this.missingHeads.clear();
    if (!ids.length || !this.heads) return;
    const { rows } = await this.pool.query<{ execution_id: string; events: string }>(
      `SELECT DISTINCT ON (execution_id) execution_id, events FROM execution_event WHERE execution_id = ANY($1::uuid[]) ORDER BY execution_id, seq DESC`, [ids]);
    for (const row of rows) {
      const last = (JSON.parse(row.events) as Array<{ seq: number; hash?: string }>).at(-1);
      if (last?.hash && (this.heads.get(row.execution_id)?.seq ?? 0) <= last.seq) this.heads.set(row.execution_id, { seq: last.seq, hash: last.hash });
    }
  }

  async get(executionId: string): Promise<ExecutionView | undefined> {
    return readExecution(this.pool, executionId);
  }

  async unfinished(): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(
      `SELECT id FROM execution WHERE status NOT IN ${TERMINAL_STATUSES_SQL} ORDER BY started_at, id`);
    return rows.map((r) => r.id);
  }

  async dueWakeUps(before: number, limit: number): Promise<Array<{ executionId: string; wakeAt: number }>> {
    const { rows } = await this.pool.query<{ id: string; wake_at: number }>(
      `SELECT id, ${ms('wake_at')} AS wake_at FROM execution
       WHERE wake_at IS NOT NULL AND wake_at <= to_timestamp($1::float8 / 1000) AND status NOT IN ${TERMINAL_STATUSES_SQL}
         AND ${CLAIMABLE_SQL}
       ORDER BY wake_at LIMIT $2`,
      [before, limit, this.owner]);
    return rows.map((r) => ({ executionId: r.id, wakeAt: Math.round(r.wake_at) }));
  }

  async findResumeToken(token: string): Promise<{ executionId: string; nodeId: string } | undefined> {
    // uncommitted state is newer than the table: a token may be waiting, or already consumed, in memory
    for (const entry of this.uncommitted()) {
      const run = entry.view().nodeRuns.find((r) => r.resumeToken === token && r.status === 'waiting');
      if (run) return { executionId: entry.executionId, nodeId: run.nodeId };
    }
    const { rows } = await this.pool.query<{ execution_id: string; node_id: string }>(
      'SELECT execution_id, node_id FROM resume_token WHERE token = $1', [token]);
    const found = rows[0];
    if (!found || this.isUncommitted(found.execution_id)) return undefined;
    return { executionId: found.execution_id, nodeId: found.node_id };
  }

  async findByDedupeKey(workflowId: string, dedupeKey: string): Promise<string | undefined> {
    const pending = this.pendingDedupe.get(dedupeSlot(workflowId, dedupeKey));
    if (pending) return pending;
    if (!isUuid(workflowId)) return undefined;
    const { rows } = await this.pool.query<{ id: string }>(
      'SELECT id FROM execution WHERE workflow_id = $1 AND dedupe_key = $2', [workflowId, dedupeKey]);
    return rows[0]?.id;
  }

  stats(): ExecutionStoreStats {
    let pendingEvents = 0;
    for (const entry of this.uncommitted()) pendingEvents += entry.events.length;
    return { ...this.counters, pendingEvents };
  }

  /**
   * Commits everything appended so far (retrying failed flushes until `timeoutMs`), then refuses appends.
   * Rejects with STORE_FAILED when the data could not be committed in time; it is then abandoned.
   */
  close(timeoutMs = 30_000): Promise<void> {
    this.closing ??= this.drain(timeoutMs);
    return this.closing;
  }

  private async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    while (this.lowestUncommitted() !== Infinity) {
      if (Date.now() >= deadline) {
        this.closed = true;
        clearTimeout(this.retryTimer);
        this.retryTimer = undefined;
        const pendingEvents = this.stats().pendingEvents;
        this.logger.error?.(`execution store closed with ${pendingEvents} execution events not committed`);
        throw new EngineError('STORE_FAILED', `closed with ${pendingEvents} execution events not committed`, undefined, true, { cause: lastError });
      }
      // durable() settles at the next flush attempt, so this loop follows the retries without polling
      await this.durable().catch((error: unknown) => { lastError = error; });
    }
    this.closed = true;
  }

  private *uncommitted(): Iterable<PendingExecution> {
    if (this.inflight) yield* this.inflight.values();
    yield* this.pending.values();
  }

  /** what the leases adapter of this store needs (PgExecutionLeases): same pool, owner and lease length */
  get leaseContext(): { pool: SqlPool; owner: string; leaseMs: number; isUncommitted: (executionId: string) => boolean; forgetHead: (executionId: string) => void } {
    return { pool: this.pool, owner: this.owner, leaseMs: this.leaseMs, isUncommitted: (id) => this.isUncommitted(id), forgetHead: (id) => this.forgetHead(id) };
  }

  /**
   * Drops the history head of an execution this daemon no longer holds in memory (released: waiting beyond
   * the wake-up horizon). Whoever runs it next reads its history first (`events()`), which seeds the head
   * again; an append without that is looked up before the flush (`missingHeads`). Without this, every
   * execution ever released kept an entry here: memory growing with the number waiting (issue 18).
   */
  private forgetHead(executionId: string): void {
    if (this.heads && !this.isUncommitted(executionId)) this.heads.delete(executionId);
  }

  private isUncommitted(executionId: string): boolean {
    return this.pending.has(executionId) || (this.inflight?.has(executionId) ?? false);
  }

  /** Entries keep the order of their first append (a flush takes a prefix, failures go back in front). */
  private lowestUncommitted(): number {
    const inflight = this.inflight?.values().next().value;
    if (inflight) return inflight.firstAppend;
    return this.pending.values().next().value?.firstAppend ?? Infinity;
  }

  private scheduleFlush(): void {
    if (this.closed || this.flushScheduled || this.inflight || this.loadingHeads || this.retryTimer || this.pending.size === 0) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      void this.flush();
    });
  }

  private takeBatch(): Map<string, PendingExecution> {
    const batch = new Map<string, PendingExecution>();
    let events = 0;
    for (const [id, entry] of this.pending) {
      if (batch.size > 0 && events + entry.events.length > this.maxBatchEvents) break;
      batch.set(id, entry);
      events += entry.events.length;
      this.pending.delete(id);
    }
    return batch;
  }

  private async flush(): Promise<void> {
    if (this.closed || this.inflight || this.loadingHeads || this.pending.size === 0) return;
    if (this.missingHeads.size) {
      this.loadingHeads = true;
      try {
        await this.loadMissingHeads();
      } catch (error) {
        // the flush below still stores the events (durability first); their chain is marked broken there
        this.logger.warn?.(`could not read the history heads of executions appended to without their history: ${(error as Error)?.message}`);
      } finally {
        this.loadingHeads = false;
      }
      if (this.closed || this.inflight || this.pending.size === 0) return;
    }
    const batch = this.takeBatch();
    this.inflight = batch;
    // after a data error, one statement per execution so the others are not held back by the bad one
    const groups = this.isolate ? [...batch.values()].map((entry) => [entry]) : [[...batch.values()]];
    // every statement is built now, in the turn that took the batch: each view then matches the events
    // it covers (appends made while a statement runs belong to the next flush)
    const statements = groups.map((group) => {
      try {
        return { group, statement: buildFlushStatement(group, (message) => this.logger.warn?.(message), this.owner, this.leaseMs, this.heads) };
      } catch (error) {
        return { group, error };
      }
    });
    const failed = new Map<string, PendingExecution>();
    let failure: unknown;
    let dataError = false;
    for (const { group, statement, error: buildError } of statements) {
      if (failure !== undefined && !dataError) {
        for (const entry of group) failed.set(entry.executionId, entry);
        continue;
      }
      const started = performance.now();
      try {
        if (!statement) throw buildError;
        await this.pool.query(statement);
      } catch (error) {
        failure = error;
        dataError = !statement || isDataError(error);
        for (const entry of group) failed.set(entry.executionId, entry);
        if (dataError && group.length === 1) {
          this.logger.error?.(`execution ${group[0]!.executionId} cannot be stored, will retry: ${(error as Error)?.message}`);
        }
        continue;
      }
      this.counters.flushes++;
      this.counters.eventsWritten += statement.eventCount;
      this.counters.projectionsWritten += group.length;
      this.counters.largestFlushEvents = Math.max(this.counters.largestFlushEvents, statement.eventCount);
      this.counters.lastFlushMs = performance.now() - started;
      this.onFlush?.({ events: statement.eventCount, executions: group.length, seconds: this.counters.lastFlushMs / 1000 });
      for (const entry of group) this.forgetDedupe(entry);
    }
    this.inflight = undefined;

    if (failure === undefined) {
      this.consecutiveFailures = 0;
      this.isolate = false;
      this.resolveWaiters();
      this.scheduleFlush();
      return;
    }

    this.putBack(failed);
    this.counters.failedFlushes++;
    this.consecutiveFailures++;
    const message = (failure as Error)?.message ?? String(failure);
    if (!(dataError && failed.size === 1)) {
      this.logger.warn?.(`committing the events of ${failed.size} executions failed, will retry: ${message}`);
    }
    const retryNow = dataError && !this.isolate;
    this.isolate ||= dataError;
    // some executions of an isolated flush may have made it: their waiters are satisfied
    this.resolveWaiters();
    const error = new EngineError('STORE_FAILED', `execution events could not be committed: ${message}`,
      { executionIds: [...failed.keys()] }, true, { cause: failure });
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
    if (this.closed) return;
    const wait = retryNow ? 0 : Math.min(this.retryInitialMs * 2 ** (this.consecutiveFailures - 1), this.retryMaxMs);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.flush();
    }, wait);
  }

  /** a failed batch goes back in front, merged with anything appended for the same executions since */
  private putBack(batch: Map<string, PendingExecution>): void {
    const merged = new Map<string, PendingExecution>();
    for (const [id, failed] of batch) {
      const newer = this.pending.get(id);
      if (newer) {
        failed.events.push(...newer.events);
        failed.view = newer.view;
        this.pending.delete(id);
      }
      merged.set(id, failed);
    }
    for (const [id, entry] of this.pending) merged.set(id, entry);
    this.pending = merged;
  }

  private resolveWaiters(): void {
    const lowest = this.lowestUncommitted();
    let satisfied = 0;
    while (satisfied < this.waiters.length && this.waiters[satisfied]!.mark < lowest) satisfied++;
    for (const waiter of this.waiters.splice(0, satisfied)) waiter.resolve();
  }

  private forgetDedupe(entry: PendingExecution): void {
    if (this.pendingDedupe.size === 0) return;
    for (const event of entry.events) {
      if (event.type === 'execution.started' && event.dedupeKey !== undefined) {
        const slot = dedupeSlot(event.workflowId, event.dedupeKey);
        if (this.pendingDedupe.get(slot) === entry.executionId) this.pendingDedupe.delete(slot);
      }
    }
  }
}




