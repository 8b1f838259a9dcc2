import { verifyChain, type AuditHead, type ChainVerification } from '@anchorflow/security';
import { auditEntries } from '../../audit/audit-log.port.js';
import { PgAuditLog } from '@anchorflow/persistence';
import { withDatabase } from '../cli-context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { type CliIo, printJson } from '../io.js';

export interface AuditVerifyOptions {
  /** `<seq>:<hash>`: verify only what follows a trusted (anchored) head */
  after?: string;
  json?: boolean;
  /** entries read per query (memory use is one page) */
  pageSize?: number;
}

export function parseHead(text: string): AuditHead {
  const match = /^(\d+):([0-9a-f]{64})$/i.exec(text.trim());
  if (!match) throw new CliError(`--after must be <seq>:<64 hex chars of its hash>, got "${text}"`, EXIT.USAGE);
  return { seq: Number(match[1]), hash: match[2]!.toLowerCase() };
}

/**
 * Recomputes the whole hash chain straight from the database, one page at a time (constant memory),
 * and reports the first broken link. Read-only.
 */
export async function auditVerify(io: CliIo, options: AuditVerifyOptions): Promise<number> {
  const after = options.after ? parseHead(options.after) : undefined;
  const result: ChainVerification = await withDatabase(io, async (db) => {
    const log = new PgAuditLog(db);
    return verifyChain(auditEntries(log, after?.seq ?? 0, options.pageSize ?? 1000), { after });
  });
  if (options.json) printJson(io, result);
  if (result.ok) {
    if (!options.json) {
      io.out(result.head
        ? `audit log OK: ${result.count} entries verified${after ? ` after seq ${after.seq}` : ''}; head seq ${result.head.seq} hash ${result.head.hash}`
        : 'audit log OK: it is empty');
    }
    return EXIT.OK;
  }
  if (!options.json) {
    io.out(`audit log BROKEN at seq ${result.brokenAt} (${result.reason}): ${result.message}`);
    io.out(result.lastGood ? `last good entry: seq ${result.lastGood.seq} hash ${result.lastGood.hash} (${result.count} verified)` : 'no entry before it verified');
  }
  return EXIT.FAILURE;
}
