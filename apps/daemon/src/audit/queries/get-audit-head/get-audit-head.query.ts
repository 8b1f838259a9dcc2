import { Query } from '@nestjs/cqrs';
import type { AuditHead } from '@anchorflow/security';

/**
 * The head of the audit chain: the latest committed entry's seq and hash (null while the log is empty).
 *
 * This is the hook for chain anchoring: the chain-anchor plugin (later) runs this query periodically,
 * anchors `hash` on chain, and keeps the proof. `anchorflow audit verify --after <seq>:<hash>` then
 * verifies everything after an anchored head, so rewriting history before it is detectable even by
 * someone who can rewrite the whole table (a database admin recomputing every hash).
 * `includePending` also flushes what this process has buffered first, so the head covers it.
 */
export class GetAuditHeadQuery extends Query<AuditHead | null> {
  constructor(readonly includePending = false) {
    super();
  }
}
