import { Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { Opt, PrimaryKeyProp } from '@mikro-orm/core';

/** One entry of a plugin's append-only log (PluginState.log): write-once per (plugin, stream, pos). */
/** the body of the trigger that refuses UPDATE (shared with the migration that creates it) */
export const NO_UPDATE_BODY = "raise exception 'plugin_log is append-only: entries are never changed';";

@Entity({ tableName: 'plugin_log', triggers: [{ name: 'no_update', timing: 'before', events: ['update'], forEach: 'row', body: NO_UPDATE_BODY }] })
export class PluginLogEntity {
  declare [PrimaryKeyProp]?: ['plugin', 'stream', 'pos'];

  @PrimaryKey({ type: 'text' })
  plugin!: string;

  @PrimaryKey({ type: 'text', collation: 'C' })
  stream!: string;

  @PrimaryKey({ type: 'bigint' })
  pos!: string;

  /** `json` (the validated text), not `jsonb`: nothing queries inside entries, and text is cheaper to insert */
  @Property({ type: 'json', columnType: 'json' })
  value!: unknown;

  @Property({ type: 'datetime', columnType: 'timestamptz', defaultRaw: 'now()' })
  appendedAt: Date & Opt = new Date();
}
