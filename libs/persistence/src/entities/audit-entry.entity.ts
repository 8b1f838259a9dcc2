import { Entity, PrimaryKey, Property, Unique } from '@mikro-orm/decorators/legacy';

/**
 * One entry of the hash-chained audit log (see @anchorflow/security `appendEntry`). Append-only: the
 * migration installs a trigger that refuses UPDATE, DELETE and TRUNCATE. The daemon writes it with raw
 * SQL in batches (apps/daemon/src/audit); this entity documents the schema for MikroORM.
 *
 * `at` is read back with `toISOString()` precision (milliseconds), which a timestamptz keeps exactly,
 * so the recomputed hash matches.
 */
@Entity({
  tableName: 'audit_entry',
  // created by the migration (with a TRUNCATE trigger, which information_schema does not list); declared
  // here as raw DDL so the schema comparator knows it and leaves it alone
  triggers: [{
    name: 'audit_entry_append_only_row',
    timing: 'before',
    events: ['update', 'delete'],
    expression: 'create trigger "audit_entry_append_only_row" before update or delete on "audit_entry" for each row execute function "audit_entry_append_only"()',
  }],
})
@Unique({ name: 'audit_entry_prev_hash_uq', properties: ['prevHash'] })
export class AuditEntryEntity {
  /** 1, 2, 3… without gaps */
  @PrimaryKey({ type: 'bigint', autoincrement: false })
  seq!: string;

  @Property({ type: 'datetime', columnType: 'timestamptz' })
  at!: Date;

  @Property({ type: 'text' })
  actor!: string;

  @Property({ type: 'text' })
  action!: string;

  @Property({ type: 'text' })
  target!: string;

  /** redacted before hashing: a secret cannot be scrubbed from the chain later */
  @Property({ type: 'json' })
  details!: unknown;

  @Property({ type: 'text' })
  prevHash!: string;

  @Property({ type: 'text' })
  hash!: string;
}
