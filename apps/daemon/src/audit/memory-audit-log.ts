import { appendEntry, type AuditEntry, type AuditFields, type AuditHead } from '@anchorflow/security';
import type { AuditLogStore } from './audit-log.port.js';

/** The audit log in memory (specs and the in-memory app); `failNext` simulates a database outage. */
export class MemoryAuditLog implements AuditLogStore {
  readonly entries: AuditEntry[] = [];
  /** the next this-many appends throw */
  failNext = 0;
  failWith: () => Error = () => Object.assign(new Error('database unavailable'), { code: '08006' });

  async append(fields: readonly AuditFields[]): Promise<AuditHead> {
    if (this.failNext > 0) {
      this.failNext--;
      throw this.failWith();
    }
    const added: AuditEntry[] = [];
    let prev: AuditHead | undefined = this.entries.at(-1);
    for (const f of fields) {
      const entry = appendEntry(prev, f);
      // what a jsonb column would hand back
      added.push(JSON.parse(JSON.stringify(entry)) as AuditEntry);
      prev = entry;
    }
    this.entries.push(...added);
    const last = this.entries.at(-1)!;
    return { seq: last.seq, hash: last.hash };
  }

  async head(): Promise<AuditHead | null> {
    const last = this.entries.at(-1);
    return last ? { seq: last.seq, hash: last.hash } : null;
  }

  async page(afterSeq: number, limit: number): Promise<AuditEntry[]> {
    const start = this.entries.findIndex((e) => e.seq > afterSeq);
    return start < 0 ? [] : this.entries.slice(start, start + limit);
  }
}
