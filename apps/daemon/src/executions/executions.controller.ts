import { Body, Controller, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiAcceptedResponse, ApiBody, ApiExcludeEndpoint, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Page } from '@anchorflow/engine';
import type { Response } from 'express';
import { RequirePermission } from '../auth/access.decorators.js';
import { DEFAULT_PAGE_SIZE } from '../common/query-params.js';
import { ParseIdPipe } from '../common/validation.js';
import { CancelExecutionCommand } from './commands/cancel-execution/cancel-execution.command.js';
import { ResumeExecutionCommand } from './commands/resume-execution/resume-execution.command.js';
import { StartExecutionCommand } from './commands/start-execution/start-execution.command.js';
import {
  CancelExecutionDto,
  ExecutionResumedSchema,
  ExecutionSchema,
  ExecutionStartedSchema,
  ListEventsQueryDto,
  ListExecutionsQueryDto,
  ResumeExecutionDto,
  StartExecutionDto,
  StartExecutionQueryDto,
} from './dto/execution.dto.js';
import { type ExecutionDto, type ExecutionRefDto, type ExecutionSummaryDto, executionRef } from './execution.presenter.js';
import { GetExecutionQuery } from './queries/get-execution/get-execution.query.js';
import { type ExecutionEventsPage, ListExecutionEventsQuery } from './queries/list-execution-events/list-execution-events.query.js';
import { ListExecutionsQuery } from './queries/list-executions/list-executions.query.js';
import { ApiErrors } from '../openapi/api-errors.decorator.js';
import { ExecutionEventPageSchema, ExecutionPageSchema } from '../openapi/response-schemas.js';

@ApiTags('executions')
@Controller()
export class ExecutionsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post('workflows/:id/executions')
  @RequirePermission('executions:run')
  @ApiOperation({ summary: 'Run the latest version: 202 {id, executionId, status}; with ?wait=ms, 200 with the finished execution (or 202 if it takes longer)' })
  @ApiAcceptedResponse({ type: ExecutionStartedSchema })
  @ApiOkResponse({ type: ExecutionSchema })
  async start(
    @Param('id', new ParseIdPipe('workflow')) workflowId: string,
    @Body() body: StartExecutionDto,
    @Query() q: StartExecutionQueryDto,
    @Res() res: Response,
  ): Promise<void> {
    const result = await this.commands.execute(new StartExecutionCommand(workflowId, body?.input, body?.triggerNodeId, q.wait));
    if (result.finished) {
      res.status(200).json(result.execution);
    } else {
      res.status(202).json(executionRef(result.executionId, result.status));
    }
  }

  @Get('executions')
  @RequirePermission('executions:read')
  @ApiOperation({ summary: 'List executions, newest first' })
  @ApiOkResponse({ type: ExecutionPageSchema })
  list(@Query() q: ListExecutionsQueryDto): Promise<Page<ExecutionSummaryDto>> {
    return this.queries.execute(new ListExecutionsQuery({ workflowId: q.workflowId, status: q.status, limit: q.limit ?? DEFAULT_PAGE_SIZE, cursor: q.cursor }));
  }

  @Post('resume/:token')
  @RequirePermission('approvals:decide')
  @HttpCode(202)
  @ApiOperation({ summary: 'Resume the node waiting on this token with {data} (the token is in the waiting node run: resumeToken)' })
  @ApiAcceptedResponse({ type: ExecutionResumedSchema })
  @ApiBody({ type: ResumeExecutionDto, required: false, examples: { approve: { value: { data: { approved: true, by: 'alice' } } } } })
  async resume(@Param('token') token: string, @Body() body: ResumeExecutionDto): Promise<ExecutionRefDto & { nodeId: string }> {
    const { executionId, nodeId } = await this.commands.execute(new ResumeExecutionCommand(token, body?.data));
    return { ...executionRef(executionId, 'running'), nodeId };
  }

  /**
   * The first release's path for resume, kept working. Left out of the OpenAPI document: it cannot be told
   * apart from /executions/{id}/… by path shape (Redocly no-ambiguous-paths); clients use /resume/{token}.
   */
  @Post('executions/resume/:token')
  @RequirePermission('approvals:decide')
  @HttpCode(202)
  @ApiExcludeEndpoint()
  resumeAtFirstReleasePath(@Param('token') token: string, @Body() body: ResumeExecutionDto): Promise<ExecutionRefDto & { nodeId: string }> {
    return this.resume(token, body);
  }

  @Get('executions/:id')
  @RequirePermission('executions:read')
  @ApiOperation({ summary: 'An execution with its node runs' })
  @ApiOkResponse({ type: ExecutionSchema })
  get(@Param('id', new ParseIdPipe('execution')) id: string): Promise<ExecutionDto> {
    return this.queries.execute(new GetExecutionQuery(id));
  }

  @Get('executions/:id/events')
  @RequirePermission('executions:read')
  @ApiOperation({ summary: 'The append-only event history (seq order); page with ?afterSeq; ?format=receipt exports it whole, with hashes, for receipt verification' })
  @ApiOkResponse({ type: ExecutionEventPageSchema })
  events(@Param('id', new ParseIdPipe('execution')) id: string, @Query() q: ListEventsQueryDto): Promise<ExecutionEventsPage> {
    if (q.format === 'receipt') return this.queries.execute(new ListExecutionEventsQuery(id, undefined, Number.MAX_SAFE_INTEGER, 'receipt'));
    return this.queries.execute(new ListExecutionEventsQuery(id, q.afterSeq, q.limit ?? 500));
  }

  @Post('executions/:id/cancel')
  @RequirePermission('executions:cancel')
  @HttpCode(202)
  @ApiOperation({ summary: 'Cancel a running execution (409 if it already finished)' })
  @ApiAcceptedResponse({ type: ExecutionStartedSchema, description: 'cancellation requested: status cancelling' })
  @ApiBody({ type: CancelExecutionDto, required: false, description: 'optional: why (kept in the execution\'s error)' })
  @ApiErrors({ 409: 'the execution already finished (code EXECUTION_FINISHED)' })
  async cancel(@Param('id', new ParseIdPipe('execution')) id: string, @Body() body: CancelExecutionDto): Promise<ExecutionRefDto> {
    await this.commands.execute(new CancelExecutionCommand(id, body?.reason));
    return executionRef(id, 'cancelling');
  }
}
