import { Query } from '@nestjs/cqrs';
import type { AuditEntry } from '@anchorflow/security';

export interface AuditEntriesPage {
  items: AuditEntry[];
  /** pass as afterSeq to read on; absent when this page was not full */
  nextAfterSeq?: number;
}

/** Entries with seq > afterSeq, oldest first. */
export class ListAuditEntriesQuery extends Query<AuditEntriesPage> {
  constructor(
    readonly afterSeq: number,
    readonly limit: number,
  ) {
    super();
  }
}
