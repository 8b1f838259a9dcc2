import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { type Engine, EngineError, type WorkflowRepository } from '@anchorflow/engine';
import type { AnchorflowConfig } from '../../../config/config.schema.js';
import { APP_CONFIG } from '../../../config/config.token.js';
import { WORKFLOW_REPOSITORY } from '../../../core/database/database.tokens.js';
import { ENGINE } from '../../../engine/engine.tokens.js';
import { toExecutionDto } from '../../execution.presenter.js';
import { withNodeInputs } from '../../node-inputs.js';
import { StartExecutionCommand, type StartExecutionResult } from './start-execution.command.js';

export type ExecutionStarter = Pick<Engine, 'start' | 'whenFinished' | 'view' | 'graph'>;

@CommandHandler(StartExecutionCommand)
export class StartExecutionHandler implements ICommandHandler<StartExecutionCommand> {
  constructor(
    @Inject(ENGINE) private readonly engine: ExecutionStarter,
    @Inject(WORKFLOW_REPOSITORY) private readonly workflows: Pick<WorkflowRepository, 'get'>,
    @Inject(APP_CONFIG) private readonly config: Pick<AnchorflowConfig, 'http'>,
  ) {}

  async execute({ workflowId, input, triggerNodeId, waitMs }: StartExecutionCommand): Promise<StartExecutionResult> {
    const workflow = await this.workflows.get(workflowId);
    if (!workflow) throw new EngineError('NOT_FOUND', `workflow ${workflowId} not found`);
    if (triggerNodeId !== undefined && !workflow.definition.nodes.some((n) => n.id === triggerNodeId)) {
      throw new EngineError('INVALID_INPUT', `workflow ${workflowId} version ${workflow.version} has no node ${JSON.stringify(triggerNodeId)}`, { triggerNodeId });
    }
    const { executionId } = await this.engine.start({
      workflowId,
      version: workflow.version,
      definition: workflow.definition,
      input: input ?? {},
      ...(triggerNodeId !== undefined ? { triggerNodeId } : {}),
    });
    const wait = Math.min(Math.max(0, waitMs ?? 0), this.config.http.maxWaitMs);
    if (wait > 0) {
      const view = await this.engine.whenFinished(executionId, wait);
      if (view) return { finished: true, execution: toExecutionDto(await withNodeInputs(this.engine, view)) };
    }
    return { finished: false, executionId, status: this.engine.view(executionId)?.status ?? 'running' };
  }
}
