import { Migration } from '@mikro-orm/migrations';

/**
 * Unfinished executions that are not waiting (running, queued), by start. Claiming work (recovery at start,
 * the wake-up poller every `engine.pollIntervalMs`, takeover) asks for what can run now or is due within the
 * horizon; with only `execution_unfinished_idx` PostgreSQL read every unfinished row and filtered out the
 * far-future waits (a sequential scan: 19 ms here with 100,000 executions waiting a day, 103 ms on a loaded
 * machine, every 5 s, linear in their number; issue 18, BENCHMARKS.md "Scale"). With this index it ORs two
 * index scans (this one and `execution_wake_at_idx`): 0.03 ms at 100,000 waiting, independent of them.
 */
export class ActiveExecutionsIndexMigration extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create index if not exists "execution_active_idx" on "execution" ("started_at") where status not in ('succeeded', 'failed', 'cancelled', 'waiting')`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "execution_active_idx"`);
  }
}
