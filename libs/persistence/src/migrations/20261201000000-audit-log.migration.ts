import { Migration } from '@mikro-orm/migrations';

/**
 * The hash-chained audit log (issue 4). Rows are only ever inserted: a trigger refuses UPDATE, DELETE and
 * TRUNCATE so nothing changes it by accident. Deliberate tampering by someone who can switch the trigger
 * off (a database superuser) is what the hash chain detects (`anchorflow audit verify`).
 * `prev_hash` is unique so the chain can never fork, even if a writer skipped the advisory lock.
 */
export class AuditLogMigration extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "audit_entry" (
      "seq" bigint not null, "at" timestamptz not null, "actor" text not null, "action" text not null,
      "target" text not null, "details" jsonb not null, "prev_hash" text not null, "hash" text not null,
      primary key ("seq"))`);
    this.addSql(`create unique index "audit_entry_prev_hash_uq" on "audit_entry" ("prev_hash")`);
    this.addSql(`create or replace function "audit_entry_append_only"() returns trigger language plpgsql as $$
      begin
        raise exception 'audit_entry is append-only (% refused)', tg_op using errcode = '55000';
      end $$`);
    this.addSql(`create trigger "audit_entry_append_only_row" before update or delete on "audit_entry"
      for each row execute function "audit_entry_append_only"()`);
    this.addSql(`create trigger "audit_entry_append_only_truncate" before truncate on "audit_entry"
      for each statement execute function "audit_entry_append_only"()`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "audit_entry" cascade`);
    this.addSql(`drop function if exists "audit_entry_append_only"()`);
  }
}
