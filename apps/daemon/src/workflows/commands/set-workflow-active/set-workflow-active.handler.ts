import { Inject } from '@nestjs/common';
import { CommandHandler, EventBus, type ICommandHandler } from '@nestjs/cqrs';
import { EngineError, type WorkflowRepository } from '@anchorflow/engine';
import { WORKFLOW_REPOSITORY } from '../../../core/database/database.tokens.js';
import { TriggerRegistry } from '../../../triggers/trigger-registry.service.js';
import { WorkflowChangedEvent } from '../../events/workflow-changed.event.js';
import { toWorkflowDto, type WorkflowDto } from '../../workflow.presenter.js';
import type { EventPublisher, WorkflowTriggers } from '../../workflow-ports.js';
import { SetWorkflowActiveCommand } from './set-workflow-active.command.js';

@CommandHandler(SetWorkflowActiveCommand)
export class SetWorkflowActiveHandler implements ICommandHandler<SetWorkflowActiveCommand> {
  constructor(
    @Inject(WORKFLOW_REPOSITORY) private readonly workflows: WorkflowRepository,
    @Inject(TriggerRegistry) private readonly triggers: WorkflowTriggers,
    @Inject(EventBus) private readonly events: EventPublisher,
  ) {}

  async execute({ workflowId, active }: SetWorkflowActiveCommand): Promise<WorkflowDto> {
    const current = await this.workflows.get(workflowId);
    if (!current) throw new EngineError('NOT_FOUND', `workflow ${workflowId} not found`);
    if (active) this.triggers.assertCanActivate(current);
    const stored = current.active === active ? current : await this.workflows.setActive(workflowId, active);
    await this.triggers.apply(stored);
    if (current.active !== active) this.events.publish(new WorkflowChangedEvent(stored.id, stored.version, active ? 'activated' : 'deactivated'));
    return toWorkflowDto(stored);
  }
}
