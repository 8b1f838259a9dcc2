import { type IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import type { AuditHead } from '@anchorflow/security';
import { AuditService } from '../../audit.service.js';
import { GetAuditHeadQuery } from './get-audit-head.query.js';

@QueryHandler(GetAuditHeadQuery)
export class GetAuditHeadHandler implements IQueryHandler<GetAuditHeadQuery> {
  constructor(private readonly audit: AuditService) {}

  async execute({ includePending }: GetAuditHeadQuery): Promise<AuditHead | null> {
    if (includePending) await this.audit.flush();
    return this.audit.store.head();
  }
}
