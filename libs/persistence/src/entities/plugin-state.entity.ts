import { Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { Opt, PrimaryKeyProp } from '@mikro-orm/core';

/** Plugin-owned key/value state (PluginState). Keys sort bytewise (collate "C") so prefix scans use the key index. */
@Entity({ tableName: 'plugin_state' })
export class PluginStateEntity {
  declare [PrimaryKeyProp]?: ['plugin', 'key'];

  @PrimaryKey({ type: 'text' })
  plugin!: string;

  @PrimaryKey({ type: 'text', collation: 'C' })
  key!: string;

  @Property({ type: 'json' })
  value!: unknown;

  @Property({ type: 'datetime', columnType: 'timestamptz', defaultRaw: 'now()' })
  updatedAt: Date & Opt = new Date();
}
