import { ApiKeyEntity } from './api-key.entity.js';
import { AuditEntryEntity } from './audit-entry.entity.js';
import { CredentialEntity } from './credential.entity.js';
import { ExecutionEventEntity } from './execution-event.entity.js';
import { ExecutionEntity } from './execution.entity.js';
import { NamedLeaseEntity } from './named-lease.entity.js';
import { PluginLogEntity } from './plugin-log.entity.js';
import { PluginStateEntity } from './plugin-state.entity.js';
import { ResumeTokenEntity } from './resume-token.entity.js';
import { WorkflowVersionEntity } from './workflow-version.entity.js';
import { WorkflowEntity } from './workflow.entity.js';

export { ApiKeyEntity, AuditEntryEntity, CredentialEntity, ExecutionEventEntity, ExecutionEntity, NamedLeaseEntity, PluginLogEntity, PluginStateEntity, ResumeTokenEntity, WorkflowVersionEntity, WorkflowEntity };

export const ENTITIES = [WorkflowEntity, WorkflowVersionEntity, ExecutionEntity, ExecutionEventEntity, ResumeTokenEntity, PluginStateEntity, PluginLogEntity, AuditEntryEntity, ApiKeyEntity, CredentialEntity, NamedLeaseEntity];
