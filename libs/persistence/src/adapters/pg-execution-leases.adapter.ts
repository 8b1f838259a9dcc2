import type { ExecutionLeases } from '@anchorflow/engine';
import { isUuid, TERMINAL_STATUSES_SQL } from './execution-rows.js';
import { CLAIMABLE_SQL, type PgExecutionStore } from './pg-execution-store.adapter.js';

/**
 * ExecutionLeases on PostgreSQL: the `owner` / `lease_expires_at` / `cancel_requested` columns of
 * `execution`, for the store it is built on (same pool and owner; executions that store has not
 * committed yet were started here, so they are ours). Times are the database's.
 */
export class PgExecutionLeases implements ExecutionLeases {
  private readonly ctx: PgExecutionStore['leaseContext'];

  constructor(private readonly store: PgExecutionStore) {
    this.ctx = store.leaseContext;
  }

  dueWakeUps(before: number, limit: number): Promise<Array<{ executionId: string; wakeAt: number }>> {
    return this.store.dueWakeUps(before, limit);
  }

  async claimUnfinished(limit: number, horizonMs: number): Promise<string[]> {
    const { rows } = await this.ctx.pool.query<{ id: string }>(
      `UPDATE execution e SET owner = $3, lease_expires_at = now() + $4::int * interval '1 millisecond'
       WHERE e.id IN (
         SELECT id FROM execution
         WHERE status NOT IN ${TERMINAL_STATUSES_SQL} AND ${CLAIMABLE_SQL}
           AND NOT (status = 'waiting' AND (wake_at IS NULL OR wake_at > now() + $2::int * interval '1 millisecond'))
         ORDER BY started_at LIMIT $1
         FOR UPDATE SKIP LOCKED)
       RETURNING e.id`,
      [limit, Math.round(horizonMs), this.ctx.owner, this.ctx.leaseMs]);
    return rows.map((r) => r.id);
  }

  async claim(executionId: string): Promise<boolean> {
    if (!isUuid(executionId)) return false;
    // not committed yet: it was started here, so it is ours
    if (this.ctx.isUncommitted(executionId)) return true;
    const { rows } = await this.ctx.pool.query<{ id: string }>(
      `UPDATE execution SET owner = $3, lease_expires_at = now() + $2::int * interval '1 millisecond'
       WHERE id = $1 AND status NOT IN ${TERMINAL_STATUSES_SQL} AND ${CLAIMABLE_SQL}
       RETURNING id`,
      [executionId, this.ctx.leaseMs, this.ctx.owner]);
    return rows.length === 1;
  }

  async renew(executionIds: string[]): Promise<{ lost: string[]; cancelRequested: Array<{ executionId: string; reason: string }> }> {
    const ids = executionIds.filter(isUuid);
    if (!ids.length) return { lost: [], cancelRequested: [] };
    // rows a flush is writing right now are skipped (SKIP LOCKED, in id order): waiting on them while
    // the flush waits on another renewed row was a deadlock; the next renewal gets them
    const { rows } = await this.ctx.pool.query<{ id: string; owner: string | null; cancel_requested: string | null; renewed: boolean }>(
      `WITH locked AS (
         SELECT id FROM execution WHERE id = ANY($1::uuid[]) AND (owner = $2 OR owner IS NULL) ORDER BY id FOR UPDATE SKIP LOCKED
       ), renewed AS (
         UPDATE execution e SET owner = $2, lease_expires_at = now() + $3::int * interval '1 millisecond'
         FROM locked l WHERE e.id = l.id RETURNING e.id, e.cancel_requested)
       SELECT e.id, e.owner, r.id IS NOT NULL AS renewed, r.cancel_requested
       FROM execution e LEFT JOIN renewed r ON r.id = e.id WHERE e.id = ANY($1::uuid[])`,
      [ids, this.ctx.owner, this.ctx.leaseMs]);
    // rows only exist for committed executions: one started here and not committed yet is still ours
    return {
      lost: rows.filter((r) => r.owner !== null && r.owner !== this.ctx.owner && !this.ctx.isUncommitted(r.id)).map((r) => r.id),
      cancelRequested: rows.filter((r) => r.renewed && r.cancel_requested !== null).map((r) => ({ executionId: r.id, reason: r.cancel_requested! })),
    };
  }

  async release(executionIds: string[]): Promise<void> {
    const ids = executionIds.filter(isUuid);
    if (!ids.length) return;
    // not held in memory any more: neither is its history head (re-read with its history when it runs again)
    for (const id of ids) this.ctx.forgetHead(id);
    await this.ctx.pool.query(`UPDATE execution SET owner = NULL, lease_expires_at = NULL WHERE id = ANY($1::uuid[]) AND owner = $2`, [ids, this.ctx.owner]);
  }

  async requestCancel(executionId: string, reason: string): Promise<boolean> {
    if (!isUuid(executionId)) return false;
    const { rows } = await this.ctx.pool.query<{ id: string }>(
      `UPDATE execution SET cancel_requested = $2 WHERE id = $1 AND status NOT IN ${TERMINAL_STATUSES_SQL} RETURNING id`,
      [executionId, reason]);
    return rows.length === 1;
  }
}
