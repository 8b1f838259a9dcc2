import { Module } from '@nestjs/common';
import { TriggersModule } from '../triggers/triggers.module.js';
import { CreateWorkflowHandler } from './commands/create-workflow/create-workflow.handler.js';
import { DeleteWorkflowHandler } from './commands/delete-workflow/delete-workflow.handler.js';
import { SetWorkflowActiveHandler } from './commands/set-workflow-active/set-workflow-active.handler.js';
import { UpdateWorkflowHandler } from './commands/update-workflow/update-workflow.handler.js';
import { GetWorkflowHandler } from './queries/get-workflow/get-workflow.handler.js';
import { LayoutWorkflowHandler } from './queries/layout-workflow/layout-workflow.handler.js';
import { ListWorkflowsHandler } from './queries/list-workflows/list-workflows.handler.js';
import { WorkflowsController } from './workflows.controller.js';

@Module({
  imports: [TriggersModule],
  controllers: [WorkflowsController],
  providers: [
    CreateWorkflowHandler,
    UpdateWorkflowHandler,
    DeleteWorkflowHandler,
    SetWorkflowActiveHandler,
    GetWorkflowHandler,
    ListWorkflowsHandler,
    LayoutWorkflowHandler,
  ],
})
export class WorkflowsModule {}
