import { ExecutionEventEntity } from './execution-event.entity.js';
import { ExecutionEntity } from './execution.entity.js';
import { PluginStateEntity } from './plugin-state.entity.js';
import { ResumeTokenEntity } from './resume-token.entity.js';
import { WorkflowVersionEntity } from './workflow-version.entity.js';
import { WorkflowEntity } from './workflow.entity.js';

export { ExecutionEventEntity, ExecutionEntity, PluginStateEntity, ResumeTokenEntity, WorkflowVersionEntity, WorkflowEntity };

export const ENTITIES = [WorkflowEntity, WorkflowVersionEntity, ExecutionEntity, ExecutionEventEntity, ResumeTokenEntity, PluginStateEntity];
