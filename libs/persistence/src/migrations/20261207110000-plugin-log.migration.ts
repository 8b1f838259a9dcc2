import { Migration } from '@mikro-orm/migrations';
import { NO_UPDATE_BODY } from '../entities/plugin-log.entity.js';

/**
 * Plugins' append-only logs (PluginState.log): one row per entry, positions 0, 1, 2, … per
 * (plugin, stream). The primary key makes every position write-once: two writers appending at the same
 * position collide instead of overwriting. A trigger refuses UPDATE: an entry is never changed.
 * Existing logs kept in plugin_state (the payment observer's `obs/<id>/log/<seq>` chunks) are moved by
 * their plugin on first use (it knows their layout); see plugins/payment-observer.
 * `json`, not `jsonb`: the database never looks inside an entry, and storing the validated text costs
 * PostgreSQL far less than converting it to jsonb (the backfill benchmark's insert; BENCHMARKS.md).
 */
export class PluginLogMigration extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "plugin_log" ("plugin" text not null, "stream" text collate "C" not null,
      "pos" bigint not null, "value" json not null, "appended_at" timestamptz not null default now(),
      constraint "plugin_log_pkey" primary key ("plugin", "stream", "pos"))`);
    // the function follows MikroORM's `<table>_<trigger>_fn` convention: the entity declares the trigger
    this.addSql(`create or replace function "plugin_log_no_update_fn"() returns trigger as $$ begin ${NO_UPDATE_BODY} end; $$ language plpgsql`);
    this.addSql(`create trigger "no_update" BEFORE UPDATE on "plugin_log" for each ROW execute function "plugin_log_no_update_fn"()`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "plugin_log"`);
    this.addSql(`drop function if exists "plugin_log_no_update_fn"()`);
  }
}
