import { Module } from '@nestjs/common';
import { ApprovalsController } from './approvals.controller.js';
import { DecideApprovalHandler } from './commands/decide-approval/decide-approval.handler.js';
import { ListApprovalsHandler } from './queries/list-approvals/list-approvals.handler.js';

@Module({
  controllers: [ApprovalsController],
  providers: [DecideApprovalHandler, ListApprovalsHandler],
})
export class ApprovalsModule {}
