import { Module } from '@nestjs/common';
import { Credentials } from '../credentials/credentials.js';
import { DAEMON_PLUGINS } from '../engine/engine.tokens.js';
import type { DaemonPlugins } from '../plugins/daemon-plugins.js';
import { TriggersModule } from '../triggers/triggers.module.js';
import { CredentialRefsCheck } from './credential-refs.check.js';
import { CREDENTIAL_REFS_CHECK } from './workflows.tokens.js';
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
    {
      provide: CREDENTIAL_REFS_CHECK,
      inject: [DAEMON_PLUGINS, { token: Credentials, optional: true }],
      // without the vault (specs that leave security out) there is nothing to check against
      useFactory: (plugins: DaemonPlugins, credentials?: Credentials) => (credentials ? new CredentialRefsCheck(plugins.catalog, credentials) : undefined),
    },
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
