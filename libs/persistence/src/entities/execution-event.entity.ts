import { Entity, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { PrimaryKeyProp } from '@mikro-orm/core';
import { ExecutionEntity } from './execution.entity.js';

/**
 * The append-only history of an execution (rows are inserted, never updated). `data` holds the event's
 * own fields; executionId, seq, type, nodeId and at have columns.
 *
 * No foreign key to the execution row: the store writes events and their execution's projection in
 * the same statement, so the row always exists, and the per-event check cost a quarter of a flush.
 */
@Entity({ tableName: 'execution_event' })
export class ExecutionEventEntity {
  declare [PrimaryKeyProp]?: ['execution', 'seq'];

  @ManyToOne({ entity: () => ExecutionEntity, primary: true, fieldName: 'execution_id', createForeignKeyConstraint: false })
  execution!: ExecutionEntity;

  @PrimaryKey({ type: 'integer' })
  seq!: number;

  @Property({ type: 'text' })
  type!: string;

  @Property({ type: 'text', nullable: true })
  nodeId?: string | null;

  @Property({ type: 'datetime', columnType: 'timestamptz' })
  at!: Date;

  @Property({ type: 'json' })
  data!: Record<string, unknown>;
}
