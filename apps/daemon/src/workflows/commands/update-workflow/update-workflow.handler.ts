import { Inject, Optional } from '@nestjs/common';
import { CommandHandler, EventBus, type ICommandHandler } from '@nestjs/cqrs';
import { EngineError, type WorkflowRepository } from '@anchorflow/engine';
import { invalidRequest } from '../../../common/validation.js';
import { WORKFLOW_REPOSITORY } from '../../../core/database/database.tokens.js';
import { ENGINE } from '../../../engine/engine.tokens.js';
import { TriggerRegistry } from '../../../triggers/trigger-registry.service.js';
import { WorkflowChangedEvent } from '../../events/workflow-changed.event.js';
import { definitionFromBody, toWorkflowDto, type WorkflowDto } from '../../workflow.presenter.js';
import type { EventPublisher, WorkflowTriggers, WorkflowValidator } from '../../workflow-ports.js';
import { validWorkflow } from '../create-workflow/create-workflow.handler.js';
import { assertCredentialRefs, type CredentialRefsCheck } from '../../credential-refs.check.js';
import { CREDENTIAL_REFS_CHECK } from '../../workflows.tokens.js';
import { UpdateWorkflowCommand } from './update-workflow.command.js';
import { assertNoSubworkflowCycle } from '../../subworkflow-cycles.check.js';

@CommandHandler(UpdateWorkflowCommand)
export class UpdateWorkflowHandler implements ICommandHandler<UpdateWorkflowCommand> {
  constructor(
    @Inject(ENGINE) private readonly validator: WorkflowValidator,
    @Inject(WORKFLOW_REPOSITORY) private readonly workflows: WorkflowRepository,
    @Inject(TriggerRegistry) private readonly triggers: WorkflowTriggers,
    @Inject(EventBus) private readonly events: EventPublisher,
    @Optional() @Inject(CREDENTIAL_REFS_CHECK) private readonly credentialRefs?: CredentialRefsCheck,
  ) {}

  async execute({ workflowId, body }: UpdateWorkflowCommand): Promise<WorkflowDto> {
    const expected = body !== null && typeof body === 'object' ? (body as { version?: unknown }).version : undefined;
    if (typeof expected !== 'number' || !Number.isInteger(expected) || expected < 1) {
      throw invalidRequest([{ path: 'version', message: 'version must be the current version number of the workflow (optimistic concurrency)' }]);
    }
    const { definition, warnings } = validWorkflow(this.validator, definitionFromBody(body));
    await assertCredentialRefs(this.credentialRefs, definition, workflowId);
    const current = await this.workflows.get(workflowId);
    if (!current) throw new EngineError('NOT_FOUND', `workflow ${workflowId} not found`);
    if (current.version !== expected) {
      throw new EngineError('CONFLICT', `workflow ${workflowId} is at version ${current.version}, not ${expected}; reload it and apply your change again`, { currentVersion: current.version });
    }
    // a workflow that is new cannot be named by another yet: only a change can close a cycle
    await assertNoSubworkflowCycle(workflowId, definition, this.workflows);
    if (current.active) this.triggers.assertCanActivate({ id: workflowId, definition });
    const updated = await this.workflows.update(workflowId, expected, definition);
    if (updated.active) await this.triggers.apply(updated);
    this.events.publish(new WorkflowChangedEvent(updated.id, updated.version, 'updated'));
    return { ...toWorkflowDto(updated), ...(warnings.length ? { warnings } : {}) };
  }
}
