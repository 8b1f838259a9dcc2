import { Migration } from '@mikro-orm/migrations';

/**
 * Events stored per (execution, commit) instead of one row per event: a flush writes one row per
 * execution holding the JSON text of the events it appended since the last commit (seq .. last_seq).
 * Measured on the W1 benchmark, one row per event plus the node outputs repeated in the projection
 * cost Postgres ~500-700 µs of CPU per execution; this layout writes two small rows per execution.
 * Text, not jsonb: the database never looks inside events, so it should not parse them.
 */
export class EventChunksMigration extends Migration {
  override async up(): Promise<void> {
    this.addSql(`drop table if exists "execution_event"`);
    this.addSql(`create table "execution_event" (
      "execution_id" uuid not null, "seq" int not null, "last_seq" int not null, "events" text not null,
      primary key ("execution_id", "seq"))`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "execution_event"`);
    this.addSql(`create table "execution_event" (
      "execution_id" uuid not null, "seq" int not null, "type" text not null, "node_id" text null,
      "at" timestamptz not null, "data" jsonb not null, primary key ("execution_id", "seq"))`);
  }
}
