import type { AuditEntry, AuditFields, AuditHead } from '@anchorflow/security';

/**
 * Where the hash-chained audit log lives (PostgreSQL in the daemon, memory in specs).
 * `append` is the only writer: it continues the chain from the stored head inside one transaction,
 * serialised across processes, so two daemons on one database never fork it.
 */
export interface AuditLogStore {
  /** Appends the entries in order after the current head; all or nothing. Returns the new head. */
  append(fields: readonly AuditFields[]): Promise<AuditHead>;
  /** The latest entry (seq and hash), or null while the log is empty. */
  head(): Promise<AuditHead | null>;
  /** Entries with seq > afterSeq, in seq order (keyset paging). */
  page(afterSeq: number, limit: number): Promise<AuditEntry[]>;
}
