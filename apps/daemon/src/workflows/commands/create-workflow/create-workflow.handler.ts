import { Inject, Optional } from '@nestjs/common';
import { CommandHandler, EventBus, type ICommandHandler } from '@nestjs/cqrs';
import { EngineError, type ValidationWarning, type WorkflowDefinition, type WorkflowRepository } from '@anchorflow/engine';
import { WORKFLOW_REPOSITORY } from '../../../database/database.tokens.js';
import { ENGINE } from '../../../engine/engine.tokens.js';
import { WorkflowChangedEvent } from '../../events/workflow-changed.event.js';
import { definitionFromBody, toWorkflowDto, type WorkflowDto } from '../../workflow.presenter.js';
import type { EventPublisher, WorkflowValidator } from '../../workflow-ports.js';
import { assertCredentialRefs, type CredentialRefsCheck } from '../../credential-refs.check.js';
import { CREDENTIAL_REFS_CHECK } from '../../workflows.tokens.js';
import { CreateWorkflowCommand } from './create-workflow.command.js';

/**
 * Throws VALIDATION_FAILED with every problem (node id + JSON path) when the graph is invalid; returns
 * the warnings of a valid one (saved anyway, shown in the answer).
 */
export function validWorkflow(validator: WorkflowValidator, definition: unknown): { definition: WorkflowDefinition; warnings: ValidationWarning[] } {
  const warnings: ValidationWarning[] = [];
  const problems = validator.validate(definition, warnings);
  if (problems.length) {
    throw new EngineError('VALIDATION_FAILED', `workflow is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}): ${problems.slice(0, 5).map((p) => `${p.path}: ${p.message}`).join('; ')}${problems.length > 5 ? '; …' : ''}`, problems);
  }
  return { definition: definition as WorkflowDefinition, warnings };
}

@CommandHandler(CreateWorkflowCommand)
export class CreateWorkflowHandler implements ICommandHandler<CreateWorkflowCommand> {
  constructor(
    @Inject(ENGINE) private readonly validator: WorkflowValidator,
    @Inject(WORKFLOW_REPOSITORY) private readonly workflows: WorkflowRepository,
    @Inject(EventBus) private readonly events: EventPublisher,
    @Optional() @Inject(CREDENTIAL_REFS_CHECK) private readonly credentialRefs?: CredentialRefsCheck,
  ) {}

  async execute(command: CreateWorkflowCommand): Promise<WorkflowDto> {
    const { definition, warnings } = validWorkflow(this.validator, definitionFromBody(command.body));
    await assertCredentialRefs(this.credentialRefs, definition);
    const stored = await this.workflows.create(definition);
    this.events.publish(new WorkflowChangedEvent(stored.id, stored.version, 'created'));
    return { ...toWorkflowDto(stored), ...(warnings.length ? { warnings } : {}) };
  }
}
