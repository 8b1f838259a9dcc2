import { Inject } from '@nestjs/common';
import { CommandHandler, EventBus, type ICommandHandler } from '@nestjs/cqrs';
import { EngineError, type WorkflowRepository } from '@anchorflow/engine';
import { WORKFLOW_REPOSITORY } from '../../../core/database/database.tokens.js';
import { TriggerRegistry } from '../../../triggers/trigger-registry.service.js';
import { WorkflowChangedEvent } from '../../events/workflow-changed.event.js';
import type { EventPublisher, WorkflowTriggers } from '../../workflow-ports.js';
import { DeleteWorkflowCommand } from './delete-workflow.command.js';

/** Soft delete; its triggers stop at once. Executions already running finish on their version. */
@CommandHandler(DeleteWorkflowCommand)
export class DeleteWorkflowHandler implements ICommandHandler<DeleteWorkflowCommand> {
  constructor(
    @Inject(WORKFLOW_REPOSITORY) private readonly workflows: WorkflowRepository,
    @Inject(TriggerRegistry) private readonly triggers: WorkflowTriggers,
    @Inject(EventBus) private readonly events: EventPublisher,
  ) {}

  async execute({ workflowId }: DeleteWorkflowCommand): Promise<void> {
    const deleted = await this.workflows.delete(workflowId);
    if (!deleted) throw new EngineError('NOT_FOUND', `workflow ${workflowId} not found`);
    await this.triggers.remove(workflowId);
    this.events.publish(new WorkflowChangedEvent(workflowId, 0, 'deleted'));
  }
}
