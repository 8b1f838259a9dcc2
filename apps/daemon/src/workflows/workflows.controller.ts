import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, Req } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBody, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Page, WorkflowSummary } from '@anchorflow/engine';
import { ChangesNothing } from '../audit/audit-http.interceptor.js';
import { RequirePermission } from '../auth/access.decorators.js';
import { principalOf } from '../auth/principal.js';
import { DEFAULT_PAGE_SIZE } from '../common/query-params.js';
import { ParseIdPipe } from '../common/validation.js';
import { CreateWorkflowCommand } from './commands/create-workflow/create-workflow.command.js';
import { DeleteWorkflowCommand } from './commands/delete-workflow/delete-workflow.command.js';
import { SetWorkflowActiveCommand } from './commands/set-workflow-active/set-workflow-active.command.js';
import { UpdateWorkflowCommand } from './commands/update-workflow/update-workflow.command.js';
import { GetWorkflowQueryDto, LayoutSchema, ListWorkflowsQueryDto, UpdateWorkflowSchema, WorkflowDefinitionSchema, WorkflowSchema } from './dto/workflow.dto.js';
import { GetWorkflowQuery } from './queries/get-workflow/get-workflow.query.js';
import { type LaidOutGraph, LayoutWorkflowQuery } from './queries/layout-workflow/layout-workflow.query.js';
import { ListWorkflowsQuery } from './queries/list-workflows/list-workflows.query.js';
import type { WorkflowDto } from './workflow.presenter.js';
import { assertMayExposeTriggers } from './public-triggers.js';

@ApiTags('workflows')
@Controller('workflows')
export class WorkflowsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post()
  @RequirePermission('workflows:write')
  @ApiOperation({ summary: 'Create a workflow (version 1); 400 lists every validation problem' })
  @ApiBody({ type: WorkflowDefinitionSchema })
  @ApiResponse({ status: 201, type: WorkflowSchema })
  create(@Body() body: Record<string, unknown>): Promise<WorkflowDto> {
    return this.commands.execute(new CreateWorkflowCommand(body));
  }

  @Get()
  @RequirePermission('workflows:read')
  @ApiOperation({ summary: 'List workflows (latest versions)' })
  list(@Query() q: ListWorkflowsQueryDto): Promise<Page<WorkflowSummary>> {
    return this.queries.execute(new ListWorkflowsQuery({ limit: q.limit ?? DEFAULT_PAGE_SIZE, cursor: q.cursor, active: q.active }));
  }

  // before :id so that "layout" is not taken for an id
  @Post('layout')
  @RequirePermission('workflows:read')
  @ChangesNothing()
  @HttpCode(200)
  @ApiOperation({ summary: 'Lay out a graph left to right: the same graph with node positions' })
  @ApiBody({ type: LayoutSchema })
  @ApiOkResponse({ type: LayoutSchema })
  layout(@Body() body: Record<string, unknown>): Promise<LaidOutGraph> {
    return this.queries.execute(new LayoutWorkflowQuery(body));
  }

  @Get(':id')
  @RequirePermission('workflows:read')
  @ApiOperation({ summary: 'Get a workflow: the latest version or ?version=N' })
  @ApiOkResponse({ type: WorkflowSchema })
  get(@Param('id', new ParseIdPipe('workflow')) id: string, @Query() q: GetWorkflowQueryDto): Promise<WorkflowDto> {
    return this.queries.execute(new GetWorkflowQuery(id, q.version));
  }

  @Put(':id')
  @RequirePermission('workflows:write')
  @ApiOperation({ summary: 'Save a new version; body.version must be the current version (else 409)' })
  @ApiBody({ type: UpdateWorkflowSchema })
  @ApiOkResponse({ type: WorkflowSchema })
  async update(@Param('id', new ParseIdPipe('workflow')) id: string, @Body() body: Record<string, unknown>, @Req() req: object): Promise<WorkflowDto> {
    // saving into an active workflow turns the new graph's triggers on at once
    const current = await this.queries.execute<GetWorkflowQuery, WorkflowDto>(new GetWorkflowQuery(id));
    if (current.active) assertMayExposeTriggers(principalOf(req), (body as Record<string, unknown> | undefined)?.nodes);
    return this.commands.execute(new UpdateWorkflowCommand(id, body));
  }

  @Delete(':id')
  @RequirePermission('workflows:write')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a workflow (its triggers stop; running executions finish)' })
  async remove(@Param('id', new ParseIdPipe('workflow')) id: string): Promise<void> {
    await this.commands.execute(new DeleteWorkflowCommand(id));
  }

  @Post(':id/activate')
  @RequirePermission('workflows:write')
  @HttpCode(200)
  @ApiOperation({ summary: 'Turn the workflow\'s triggers on (409 if a webhook route is taken; a public trigger such as a webhook also needs executions:run, else 403)' })
  @ApiOkResponse({ type: WorkflowSchema })
  async activate(@Param('id', new ParseIdPipe('workflow')) id: string, @Req() req: object): Promise<WorkflowDto> {
    const current = await this.queries.execute<GetWorkflowQuery, WorkflowDto>(new GetWorkflowQuery(id));
    assertMayExposeTriggers(principalOf(req), current.nodes);
    return this.commands.execute(new SetWorkflowActiveCommand(id, true));
  }

  @Post(':id/deactivate')
  @RequirePermission('workflows:write')
  @HttpCode(200)
  @ApiOperation({ summary: 'Turn the workflow\'s triggers off' })
  @ApiOkResponse({ type: WorkflowSchema })
  deactivate(@Param('id', new ParseIdPipe('workflow')) id: string): Promise<WorkflowDto> {
    return this.commands.execute(new SetWorkflowActiveCommand(id, false));
  }
}
