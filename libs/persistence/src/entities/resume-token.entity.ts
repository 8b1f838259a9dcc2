import { Entity, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { ExecutionEntity } from './execution.entity.js';

/** Who is suspended waiting for a token; kept in sync with the projection's waiting node runs. */
@Entity({ tableName: 'resume_token' })
export class ResumeTokenEntity {
  @PrimaryKey({ type: 'text' })
  token!: string;

  @ManyToOne({ entity: () => ExecutionEntity, fieldName: 'execution_id', deleteRule: 'cascade', index: 'resume_token_execution_idx' })
  execution!: ExecutionEntity;

  @Property({ type: 'text' })
  nodeId!: string;
}
