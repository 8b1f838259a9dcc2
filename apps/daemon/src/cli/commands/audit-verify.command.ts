import { resolve } from 'node:path';
import { verifyChain, type AuditEntry, type AuditHead } from '@anchorflow/security';
import { auditEntries } from '../../audit/audit-log.port.js';
import { AUDIT_HEAD_FILE, loadAuditKey, readSealedHead, type SealedHead } from '../../audit/sealed-head.js';
import { lastPluginStateEntry, PgAuditLog } from '@anchorflow/persistence';
import type { DeliveredProof, Verdict } from '@anchorflow/plugin-chain-anchor';
import { AUDIT_ANCHOR_PREFIX, auditHeadStatement, CHAIN_ANCHOR_PLUGIN } from '../../receipts/receipt-keys.js';
import { withDatabase } from '../cli-context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { type CliIo, printJson } from '../io.js';

export interface AuditVerifyOptions {
  /** `<seq>:<hash>`: verify only what follows a trusted (anchored) head */
  after?: string;
  /** `<seq>:<hash>` recorded elsewhere (an anchor, a ticket): the database must still hold exactly it */
  expectHead?: string;
  json?: boolean;
  /** entries read per query (memory use is one page) */
  pageSize?: number;
  /** prove the newest anchored head (receipts.network) on chain */
  anchored?: boolean;
  /** with anchored: leaf → root only */
  offline?: boolean;
  rpc?: string;
}

/** the newest audit head the batcher anchored (receipts.network), read from the chain-anchor plugin's state */
interface AnchoredHead {
  seq: number;
  proof: unknown;
  anchoredAt: number;
}

export function parseHead(text: string, option = '--after'): AuditHead {
  const match = /^(\d+):([0-9a-f]{64})$/i.exec(text.trim());
  if (!match) throw new CliError(`${option} must be <seq>:<64 hex chars of its hash>, got "${text}"`, EXIT.USAGE);
  return { seq: Number(match[1]), hash: match[2]!.toLowerCase() };
}

/** Where a head that must be in the chain came from, and the head. */
interface ExpectedHead {
  source: string;
  head: AuditHead;
}

/**
 * Recomputes the whole hash chain straight from the database, one page at a time (constant memory),
 * and reports the first broken link. Then checks that the chain still holds the heads recorded outside
 * the database: the sealed head in the data directory (HMAC with the audit key, written by the daemon
 * after every append) and `--expect-head`; a head missing (tail cut) or different (chain rewritten)
 * fails. Read-only.
 */
export async function auditVerify(io: CliIo, options: AuditVerifyOptions): Promise<number> {
  const after = options.after ? parseHead(options.after) : undefined;
  const expected: ExpectedHead[] = options.expectHead ? [{ source: '--expect-head', head: parseHead(options.expectHead, '--expect-head') }] : [];
  const seen = new Map<number, string>();
  let sealedNote: string | undefined;
  const { result, sealedError, anchored: anchoredResult } = await withDatabase(io, async (db, config) => {
    const dataDir = resolve(io.cwd, config.dataDir);
    let sealed: SealedHead | undefined;
    let sealedError: string | undefined;
    try {
      const key = loadAuditKey(io.env, dataDir, { create: false });
      sealed = key ? readSealedHead(dataDir, key) : undefined;
      if (!key) sealedNote = `no audit key in ${dataDir} or ANCHORFLOW_AUDIT_KEY: the sealed head is not checked`;
      else if (!sealed) sealedNote = `no sealed head (${AUDIT_HEAD_FILE}) in ${dataDir}`;
    } catch (err) {
      sealedError = (err as Error).message;
    }
    if (sealed) expected.push({ source: `the sealed head (${AUDIT_HEAD_FILE}, written ${sealed.at})`, head: sealed });
    const wanted = new Set(expected.map((e) => e.head.seq));
    let anchored: AnchoredHead | undefined;
    if (options.anchored) {
      // keys are zero-padded seqs: the greatest is the newest head (one row read, however many were anchored)
      const last = await lastPluginStateEntry<DeliveredProof>(db, CHAIN_ANCHOR_PLUGIN, AUDIT_ANCHOR_PREFIX);
      if (last) anchored = { seq: Number(last.key.slice(AUDIT_ANCHOR_PREFIX.length)), proof: last.value.proof, anchoredAt: last.value.anchoredAt };
      if (anchored) wanted.add(anchored.seq);
    }
    // the trusted head of --after is in the chain by assumption
    if (after) seen.set(after.seq, after.hash);
    async function* tap(entries: AsyncGenerator<AuditEntry>): AsyncGenerator<AuditEntry> {
      for await (const entry of entries) {
        if (wanted.has(entry.seq)) seen.set(entry.seq, entry.hash);
        yield entry;
      }
    }
    const log = new PgAuditLog(db);
    const result = await verifyChain(tap(auditEntries(log, after?.seq ?? 0, options.pageSize ?? 1000)), { after });
    return { result, sealedError, anchored };
  });
  const problems: string[] = [];
  const logHead = result.ok ? (result.head?.seq ?? 0) : (result.lastGood?.seq ?? 0);
  const anchoredLines: string[] = [];
  let anchoredVerdict: Verdict | undefined;
  if (options.anchored) {
    const a = anchoredResult;
    if (!a) problems.push('no anchored audit head yet: set receipts.network (and audit.anchorEveryMs) and wait for the first anchor');
    else {
      const hash = seen.get(a.seq);
      if (hash === undefined) problems.push(`the anchored head seq ${a.seq} is missing: the log ends at seq ${logHead} (entries were deleted from its tail)`);
      else {
        // loaded only here: plain `audit verify` does not pay for the chain code (ethers)
        const { onlineCheckerFor, verifyProof } = await import('@anchorflow/plugin-chain-anchor');
        const { configuredNetworks } = await import('./proof-verify.command.js');
        anchoredVerdict = await verifyProof(a.proof, {
          data: auditHeadStatement({ seq: a.seq, hash }),
          hasData: true,
          ...(options.offline ? {} : { online: onlineCheckerFor(options.rpc ? {} : configuredNetworks(io), { rpcUrl: options.rpc }) }),
        });
        const anchor = (a.proof as { anchor?: { txHash?: string; block?: number; timestamp?: string; network?: string } }).anchor;
        for (const c of anchoredVerdict.checks) anchoredLines.push(`${c.ok ? 'ok  ' : 'FAIL'} anchor ${c.name}: ${c.name === 'leaf' ? (c.ok ? `entry seq ${a.seq} is the anchored head` : `entry seq ${a.seq} in the database is not the head that was anchored (${c.detail})`) : c.detail}`);
        if (anchoredVerdict.valid) anchoredLines.unshift(`anchored up to seq ${a.seq} (network ${anchor?.network}, tx ${anchor?.txHash}, block ${anchor?.block}, ${anchor?.timestamp})${options.offline ? ' (offline: not checked on chain)' : ''}; ${Math.max(0, logHead - a.seq)} later entries not anchored yet`);
        else problems.push(`the anchored head seq ${a.seq} does not verify: ${anchoredVerdict.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`).join('; ')}`);
      }
    }
  }
  if (sealedError) problems.push(`sealed head refused: ${sealedError}`);
  if (result.ok) {
    for (const { source, head } of expected) {
      // before the trusted --after head: outside what this run reads
      if (after && head.seq < after.seq) continue;
      const found = seen.get(head.seq);
      if (found === undefined) problems.push(`${source} seq ${head.seq} is missing: the log ends at seq ${result.head?.seq ?? 0} (entries were deleted from its tail)`);
      else if (found !== head.hash) problems.push(`${source} seq ${head.seq} has hash ${head.hash}, the database ${found} (the chain was rewritten)`);
    }
  }
  if (options.json) printJson(io, { ...result, ...(problems.length ? { ok: false, heads: problems } : {}), ...(sealedNote ? { note: sealedNote } : {}), ...(anchoredResult && anchoredVerdict ? { anchored: { seq: anchoredResult.seq, anchoredAt: new Date(anchoredResult.anchoredAt).toISOString(), ...anchoredVerdict } } : {}) });
  if (result.ok && !problems.length) {
    if (!options.json) {
      io.out(result.head
        ? `audit log OK: ${result.count} entries verified${after ? ` after seq ${after.seq}` : ''}; head seq ${result.head.seq} hash ${result.head.hash}`
        : 'audit log OK: it is empty');
      for (const { source, head } of expected) io.out(`${source} seq ${head.seq} is in the chain`);
      for (const line of anchoredLines) io.out(line);
      if (sealedNote) io.out(sealedNote);
    }
    return EXIT.OK;
  }
  if (!options.json) {
    if (!result.ok) {
      io.out(`audit log BROKEN at seq ${result.brokenAt} (${result.reason}): ${result.message}`);
      io.out(result.lastGood ? `last good entry: seq ${result.lastGood.seq} hash ${result.lastGood.hash} (${result.count} verified)` : 'no entry before it verified');
    }
    for (const line of anchoredLines) io.out(line);
    for (const p of problems) io.out(`audit log BROKEN: ${p}`);
  }
  return EXIT.FAILURE;
}
