import { Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { Opt } from '@mikro-orm/core';

/**
 * An API key (issue 4; @anchorflow/security `generateApiKey`). Only the SHA-256 of the whole key is
 * stored; the key itself is shown once when it is created. `id` is the public part of the key
 * (`afk_<id>_…`), used to look the row up. The daemon reads and writes it with raw SQL
 * (apps/daemon/src/auth/api-key.store.ts); this entity documents the schema for MikroORM.
 */
@Entity({ tableName: 'api_key' })
export class ApiKeyEntity {
  /** 16 lowercase hex characters */
  @PrimaryKey({ type: 'text' })
  id!: string;

  @Property({ type: 'text' })
  name!: string;

  /** admin | editor | operator | auditor | viewer */
  @Property({ type: 'text' })
  role!: string;

  /** SHA-256 hex of the whole key */
  @Property({ type: 'text' })
  hash!: string;

  @Property({ type: 'datetime', columnType: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date & Opt = new Date();

  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  expiresAt?: Date | null;

  /** set once, never cleared: a revoked key stays revoked */
  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  revokedAt?: Date | null;

  /** updated at most once a minute per key */
  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  lastUsedAt?: Date | null;
}
