import { Inject } from '@nestjs/common';
import { type IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { AUDIT_LOG_STORE, type AuditLogStore } from '../../audit-log.port.js';
import { type AuditEntriesPage, ListAuditEntriesQuery } from './list-audit-entries.query.js';

@QueryHandler(ListAuditEntriesQuery)
export class ListAuditEntriesHandler implements IQueryHandler<ListAuditEntriesQuery> {
  constructor(@Inject(AUDIT_LOG_STORE) private readonly store: Pick<AuditLogStore, 'page'>) {}

  async execute({ afterSeq, limit }: ListAuditEntriesQuery): Promise<AuditEntriesPage> {
    const items = await this.store.page(afterSeq, limit);
    return items.length === limit ? { items, nextAfterSeq: items[items.length - 1]!.seq } : { items };
  }
}
