import { Controller, Get, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AuditHead } from '@anchorflow/security';
import { RequirePermission } from '../auth/access.decorators.js';
import { AuditHeadSchema, AuditPageSchema, DEFAULT_AUDIT_PAGE, ListAuditQueryDto } from './dto/audit.dto.js';
import { GetAuditHeadQuery } from './queries/get-audit-head/get-audit-head.query.js';
import { type AuditEntriesPage, ListAuditEntriesQuery } from './queries/list-audit-entries/list-audit-entries.query.js';

@ApiTags('audit')
@Controller('audit')
@RequirePermission('audit:read')
export class AuditController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @ApiOperation({ summary: 'Page through the hash-chained audit log, oldest first (?afterSeq=&limit=)' })
  @ApiOkResponse({ type: AuditPageSchema })
  list(@Query() q: ListAuditQueryDto): Promise<AuditEntriesPage> {
    return this.queries.execute(new ListAuditEntriesQuery(q.afterSeq ?? 0, q.limit ?? DEFAULT_AUDIT_PAGE));
  }

  @Get('head')
  @ApiOperation({ summary: 'The chain head: the latest entry\'s seq and hash (what chain anchoring anchors); null when empty' })
  @ApiOkResponse({ type: AuditHeadSchema })
  async head(): Promise<{ head: AuditHead | null }> {
    return { head: await this.queries.execute(new GetAuditHeadQuery()) };
  }
}
