import { Controller, Get } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { NodeTypeInfo } from '@anchorflow/engine';
import { RequirePermission } from '../auth/access.decorators.js';
import { ListNodeTypesQuery } from './queries/list-node-types/list-node-types.query.js';
import { NodeTypeListSchema } from '../openapi/response-schemas.js';

@ApiTags('node-types')
@Controller('node-types')
export class NodeTypesController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @RequirePermission('plugins:read')
  @ApiOperation({ summary: 'The node type catalog: type, version, title, category, inputs, outputs, paramsSchema' })
  @ApiOkResponse({ type: NodeTypeListSchema })
  list(): Promise<{ items: NodeTypeInfo[] }> {
    return this.queries.execute(new ListNodeTypesQuery());
  }
}
