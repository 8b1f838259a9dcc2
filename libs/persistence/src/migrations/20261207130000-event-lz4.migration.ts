import { Migration } from '@mikro-orm/migrations';

/**
 * Execution histories (execution_event.events, ~4 KB of JSON text per W1 execution, ~10 KB per W2) are no
 * longer compressed with PostgreSQL's default pglz, whose CPU was a sixth of the server's work per W1
 * execution (issue 18; measured here on 5,000 W1-sized rows: pglz ~43 µs of server CPU per row, lz4 ~12 µs
 * with rows no larger, uncompressed ~20 µs):
 * - with lz4 (Debian's and most packaged servers): lz4;
 * - without it (the embedded PostgreSQL's build): stored uncompressed (`storage external`, out of line),
 *   which takes about twice the disk for histories (~3.4 KB instead of ~1.5 KB per W1 execution) for
 *   0.94× the CPU per webhook call, W1 and W2 alike (same-run A/B in BENCHMARKS.md). Retention bounds it.
 * Only new values are affected; stored rows stay readable as they are.
 */
export class EventLz4Migration extends Migration {
  override async up(): Promise<void> {
    this.addSql(`do $$ begin
      alter table "execution_event" alter column "events" set compression lz4;
    exception when feature_not_supported or invalid_parameter_value then
      alter table "execution_event" alter column "events" set storage external;
    end $$`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "execution_event" alter column "events" set compression default, alter column "events" set storage extended`);
  }
}
