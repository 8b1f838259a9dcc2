import { Entity, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import type { Opt, PrimaryKeyProp } from '@mikro-orm/core';
import type { WorkflowDefinition } from '@anchorflow/engine';
import { WorkflowEntity } from './workflow.entity.js';

/** One immutable version of a workflow's graph. */
@Entity({ tableName: 'workflow_version' })
export class WorkflowVersionEntity {
  declare [PrimaryKeyProp]?: ['workflow', 'version'];

  @ManyToOne({ entity: () => WorkflowEntity, primary: true, fieldName: 'workflow_id', deleteRule: 'cascade' })
  workflow!: WorkflowEntity;

  @PrimaryKey({ type: 'integer' })
  version!: number;

  @Property({ type: 'json' })
  definition!: WorkflowDefinition;

  @Property({ type: 'datetime', columnType: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date & Opt = new Date();
}
