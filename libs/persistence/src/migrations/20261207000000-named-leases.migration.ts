import { Migration } from '@mikro-orm/migrations';

/**
 * Leases on named work that runs on one daemon of a cluster at a time (one-per-cluster plugin
 * services, trigger sources). `expires_at` is the database's clock: holders never compare their own.
 */
export class NamedLeasesMigration extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "named_lease" ("name" text not null, "holder" text not null,
      "expires_at" timestamptz not null, "acquired_at" timestamptz not null default now(),
      constraint "named_lease_pkey" primary key ("name"))`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "named_lease"`);
  }
}
