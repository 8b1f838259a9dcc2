import { Entity, Index, PrimaryKey, Property, Unique } from '@mikro-orm/decorators/legacy';
import type { Opt } from '@mikro-orm/core';
import type { ErrorInfo } from '@anchorflow/plugin-sdk';
import type { ExecutionStatus, NodeRunView } from '@anchorflow/engine';

/** Statuses after which nothing happens to an execution any more (kept in sync with the partial indexes). */
export const TERMINAL_STATUS_SQL = `('succeeded', 'failed', 'cancelled')`;

/**
 * The projection of an execution (a fold of its events), written by the execution store's group commit.
 *
 * Node runs are a jsonb array in this row on purpose: a row per node run would turn every flush into
 * one write per touched node run on the hot path, while the API always reads an execution with all its
 * node runs anyway. The events table keeps the per-node history.
 *
 * The table has fillfactor 70 (set in the migration) so those frequent updates can stay HOT.
 *
 * workflow_id has no foreign key on purpose: one execution whose workflow row is missing would make
 * the whole group-commit batch fail on every retry.
 */
@Entity({ tableName: 'execution' })
@Unique({ name: 'execution_dedupe_key_uq', properties: ['workflowId', 'dedupeKey'], where: 'dedupe_key is not null' })
@Index({ name: 'execution_started_idx', expression: 'create index "execution_started_idx" on "execution" ("started_at" desc, "id" desc)' })
@Index({ name: 'execution_workflow_started_idx', expression: 'create index "execution_workflow_started_idx" on "execution" ("workflow_id", "started_at" desc, "id" desc)' })
@Index({ name: 'execution_status_started_idx', expression: 'create index "execution_status_started_idx" on "execution" ("status", "started_at" desc, "id" desc)' })
@Index({ name: 'execution_wake_at_idx', expression: `create index "execution_wake_at_idx" on "execution" ("wake_at") where wake_at is not null and status not in ${TERMINAL_STATUS_SQL}` })
@Index({ name: 'execution_claimable_idx', expression: `create index "execution_claimable_idx" on "execution" ("lease_expires_at", "started_at") where status not in ${TERMINAL_STATUS_SQL}` })
@Index({ name: 'execution_unfinished_idx', expression: `create index "execution_unfinished_idx" on "execution" ("started_at") where status not in ${TERMINAL_STATUS_SQL}` })
@Index({ name: 'execution_active_idx', expression: `create index "execution_active_idx" on "execution" ("started_at") where status not in ('succeeded', 'failed', 'cancelled', 'waiting')` })
export class ExecutionEntity {
  @PrimaryKey({ type: 'uuid' })
  id!: string;

  @Property({ type: 'uuid' })
  workflowId!: string;

  @Property({ type: 'integer' })
  workflowVersion!: number;

  @Property({ type: 'text' })
  status!: ExecutionStatus;

  @Property({ type: 'json', nullable: true })
  input?: unknown;

  @Property({ type: 'json', nullable: true })
  output?: Record<string, unknown> | null;

  @Property({ type: 'json', nullable: true })
  error?: ErrorInfo | null;

  @Property({ type: 'text', nullable: true })
  triggerNodeId?: string | null;

  @Property({ type: 'text', nullable: true })
  dedupeKey?: string | null;

  @Property({ type: 'datetime', columnType: 'timestamptz' })
  startedAt!: Date;

  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  finishedAt?: Date | null;

  /** last event seq folded into this row; a stale write (lower seq) never overwrites a newer one */
  @Property({ type: 'integer' })
  seq!: number;

  /** earliest retry/timer due without outside input, for the wake-up poller */
  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  wakeAt?: Date | null;

  @Property({ type: 'json', defaultRaw: `'[]'` })
  nodeRuns: NodeRunView[] & Opt = [];

  @Property({ type: 'datetime', columnType: 'timestamptz', defaultRaw: 'now()' })
  updatedAt: Date & Opt = new Date();

  /** daemon holding the lease (cluster mode); null when nobody runs it (finished, or waiting idle) */
  @Property({ type: 'text', nullable: true })
  owner?: string;

  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  leaseExpiresAt?: Date;

  /** a cancel asked on a daemon that does not hold the lease; the holder acts on it when it renews */
  @Property({ type: 'text', nullable: true })
  cancelRequested?: string;
}
