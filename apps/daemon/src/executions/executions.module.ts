import { Module } from '@nestjs/common';
import { CancelExecutionHandler } from './commands/cancel-execution/cancel-execution.handler.js';
import { ResumeExecutionHandler } from './commands/resume-execution/resume-execution.handler.js';
import { StartExecutionHandler } from './commands/start-execution/start-execution.handler.js';
import { ExecutionsController } from './executions.controller.js';
import { GetExecutionHandler } from './queries/get-execution/get-execution.handler.js';
import { ListExecutionEventsHandler } from './queries/list-execution-events/list-execution-events.handler.js';
import { ListExecutionsHandler } from './queries/list-executions/list-executions.handler.js';

@Module({
  controllers: [ExecutionsController],
  providers: [StartExecutionHandler, CancelExecutionHandler, ResumeExecutionHandler, GetExecutionHandler, ListExecutionsHandler, ListExecutionEventsHandler],
})
export class ExecutionsModule {}
