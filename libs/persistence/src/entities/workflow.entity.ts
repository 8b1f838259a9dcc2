import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { Opt } from '@mikro-orm/core';

/** A workflow; its graphs live in immutable versions (WorkflowVersionEntity). */
@Entity({ tableName: 'workflow' })
@Index({ name: 'workflow_created_idx', properties: ['createdAt', 'id'] })
export class WorkflowEntity {
  @PrimaryKey({ type: 'uuid' })
  id!: string;

  @Property({ type: 'text' })
  name!: string;

  @Property({ type: 'integer' })
  currentVersion!: number;

  @Property({ type: 'boolean', default: false })
  active: boolean & Opt = false;

  @Property({ type: 'datetime', columnType: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date & Opt = new Date();

  @Property({ type: 'datetime', columnType: 'timestamptz', defaultRaw: 'now()' })
  updatedAt: Date & Opt = new Date();

  /** soft delete: executions keep reading the versions they started with */
  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  deletedAt?: Date | null;
}
