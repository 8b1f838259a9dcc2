import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Page } from '@anchorflow/engine';
import { RequirePermission } from '../auth/access.decorators.js';
import { type AuthPrincipal, CurrentPrincipal } from '../auth/principal.js';
import { DEFAULT_PAGE_SIZE } from '../common/query-params.js';
import { ParseIdPipe } from '../common/validation.js';
import { ApiErrors } from '../openapi/api-errors.decorator.js';
import { executionRef, type ExecutionRefDto } from '../executions/execution.presenter.js';
import { type ApprovalDecided, DecideApprovalCommand } from './commands/decide-approval/decide-approval.command.js';
import { ApprovalDecidedSchema, DecideApprovalDto, ListApprovalsQueryDto, PendingApprovalPageSchema } from './dto/approval.dto.js';
import { ListApprovalsQuery, type PendingApproval } from './queries/list-approvals/list-approvals.query.js';

/**
 * People in workflows: core.approval nodes wait until one of their `approvers` (a role or an API key name)
 * decides here. The route permission (approvals:decide) is checked first, then the node's approvers.
 */
@ApiTags('approvals')
@Controller()
@RequirePermission('approvals:decide')
export class ApprovalsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post('executions/:id/approvals/:nodeId')
  @HttpCode(200)
  @ApiOperation({ summary: 'Decide a waiting approval node (approve or reject); it resumes out of port approved or rejected with {decision, by, at, comment}' })
  @ApiOkResponse({ type: ApprovalDecidedSchema })
  @ApiErrors({ 409: 'the approval was already decided or timed out (ALREADY_DECIDED), or is not waiting yet (APPROVAL_NOT_WAITING)' })
  async decide(
    @Param('id', new ParseIdPipe('execution')) executionId: string,
    @Param('nodeId') nodeId: string,
    @Body() body: DecideApprovalDto,
    @CurrentPrincipal() principal: AuthPrincipal,
  ): Promise<ExecutionRefDto & ApprovalDecided> {
    const decided = await this.commands.execute(new DecideApprovalCommand(executionId, nodeId, body.decision, principal, body.comment));
    return { ...executionRef(executionId, 'running'), ...decided };
  }

  @Get('approvals')
  @ApiOperation({ summary: 'Approval nodes waiting for a decision the caller may make (status=pending)' })
  @ApiOkResponse({ type: PendingApprovalPageSchema })
  list(@Query() q: ListApprovalsQueryDto, @CurrentPrincipal() principal: AuthPrincipal): Promise<Page<PendingApproval>> {
    return this.queries.execute(new ListApprovalsQuery(principal, q.limit ?? DEFAULT_PAGE_SIZE, q.cursor));
  }
}
