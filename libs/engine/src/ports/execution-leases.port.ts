/**
 * Ownership of executions among engines sharing one store (several daemons on one database): the engine
 * works only on executions it holds a lease on. `SingleOwnerLeases` is the adapter for a store only this
 * engine uses; `PgExecutionLeases` (libs/persistence) the one for PostgreSQL.
 */
export interface ExecutionLeases {
  /**
   * Claims up to `limit` unfinished executions nobody holds (no owner, an expired lease, or already
   * ours), except waiting ones whose wake-up is further than `horizonMs` away (those stay unowned and
   * hold no memory until they are due). Returns their ids.
   */
  claimUnfinished(limit: number, horizonMs: number): Promise<string[]>;
  /** claims one unfinished execution if nobody else holds a live lease on it */
  claim(executionId: string): Promise<boolean>;
  /**
   * Extends the leases of these executions. `lost`: held by someone else now (stop working on them);
   * `cancelRequested`: another engine was asked to cancel them.
   */
  renew(executionIds: string[]): Promise<{ lost: string[]; cancelRequested: Array<{ executionId: string; reason: string }> }>;
  /** gives executions up (evicted while waiting, shutdown) so any engine may take them */
  release(executionIds: string[]): Promise<void>;
  /** records a cancel request for the engine holding the execution; false when it is finished or unknown */
  requestCancel(executionId: string, reason: string): Promise<boolean>;
  /** waiting/retrying executions this engine may take whose wakeAt is at or before `before` */
  dueWakeUps(before: number, limit: number): Promise<Array<{ executionId: string; wakeAt: number }>>;
}
