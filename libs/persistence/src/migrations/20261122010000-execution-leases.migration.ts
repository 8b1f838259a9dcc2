import { Migration } from '@mikro-orm/migrations';

/**
 * Lease-based ownership of executions, so several daemons can share one database: the daemon that
 * holds an unexpired lease runs the execution; when it dies the lease expires and another takes over.
 * `cancel_requested` lets a daemon ask the holder to cancel (seen at its next renewal).
 */
export class ExecutionLeasesMigration extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "execution" add column "owner" text null, add column "lease_expires_at" timestamptz null,
      add column "cancel_requested" text null`);
    this.addSql(`create index "execution_claimable_idx" on "execution" ("lease_expires_at", "started_at")
      where status not in ('succeeded', 'failed', 'cancelled')`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "execution_claimable_idx"`);
    this.addSql(`alter table "execution" drop column "owner", drop column "lease_expires_at", drop column "cancel_requested"`);
  }
}
