import { Controller, Get } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequirePermission } from '../auth/access.decorators.js';
import type { PluginsView } from './queries/list-plugins/list-plugins.handler.js';
import { ListPluginsQuery } from './queries/list-plugins/list-plugins.query.js';
import { PluginsViewSchema } from '../openapi/response-schemas.js';

@ApiTags('plugins')
@Controller('plugins')
@RequirePermission('plugins:read')
export class PluginsController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @ApiOperation({
    summary: 'Plugins: loaded ones (name, version, source, node types) and those that failed to load (spec, code, reason); live workers in cluster mode',
  })
  @ApiOkResponse({ type: PluginsViewSchema })
  list(): Promise<PluginsView> {
    return this.queries.execute(new ListPluginsQuery());
  }
}
