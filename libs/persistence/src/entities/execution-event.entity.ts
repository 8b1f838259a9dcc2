import { Entity, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { PrimaryKeyProp } from '@mikro-orm/core';
import { ExecutionEntity } from './execution.entity.js';

/**
 * The append-only history of an execution, stored per commit: one row holds the events one flush
 * appended for one execution (seq .. lastSeq) as JSON text. Each event keeps its own seq; readers
 * flatten the rows. A row is only ever replaced by a superset starting at the same seq (a retried
 * flush whose first commit's acknowledgement was lost).
 *
 * No foreign key to the execution row: the store writes events and their execution's projection in
 * the same statement, so the row always exists, and the check cost a quarter of a flush.
 */
@Entity({ tableName: 'execution_event' })
export class ExecutionEventEntity {
  declare [PrimaryKeyProp]?: ['execution', 'seq'];

  @ManyToOne({ entity: () => ExecutionEntity, primary: true, fieldName: 'execution_id', createForeignKeyConstraint: false })
  execution!: ExecutionEntity;

  /** seq of the first event in this row */
  @PrimaryKey({ type: 'integer' })
  seq!: number;

  @Property({ type: 'integer' })
  lastSeq!: number;

  /** JSON array of the events without their executionId */
  @Property({ type: 'text' })
  events!: string;
}
