import type { AuditEntry } from '@anchorflow/security';

/** the port lives with its PostgreSQL repository in libs/persistence */
export type { AuditLogStore } from '@anchorflow/persistence';
import type { AuditLogStore } from '@anchorflow/persistence';

/** DI token of the AuditLogStore. */
export const AUDIT_LOG_STORE = Symbol('AUDIT_LOG_STORE');

/** Every entry after `afterSeq`, one page in memory at a time (for `verifyChain`: constant memory). */
export async function* auditEntries(store: Pick<AuditLogStore, 'page'>, afterSeq = 0, pageSize = 1000): AsyncGenerator<AuditEntry> {
  let after = afterSeq;
  for (;;) {
    const page = await store.page(after, pageSize);
    for (const entry of page) yield entry;
    if (page.length < pageSize) return;
    after = page[page.length - 1]!.seq;
  }
}
