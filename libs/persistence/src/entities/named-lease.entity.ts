import { Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { Opt } from '@mikro-orm/core';

/** A lease on named one-per-cluster work (NamedLeases): who runs it, until when (the database's clock). */
@Entity({ tableName: 'named_lease' })
export class NamedLeaseEntity {
  @PrimaryKey({ type: 'text' })
  name!: string;

  @Property({ type: 'text' })
  holder!: string;

  @Property({ type: 'datetime', columnType: 'timestamptz' })
  expiresAt!: Date;

  @Property({ type: 'datetime', columnType: 'timestamptz', defaultRaw: 'now()' })
  acquiredAt: Date & Opt = new Date();
}
