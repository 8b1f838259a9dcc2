import { createHash } from 'node:crypto';
import { SecurityError } from '../errors/security-error.js';
import { canonicalJson, type JsonValue } from './canonical-json.js';

/** prevHash of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * One row of the append-only audit table. `hash` = SHA-256 hex of canonicalJson of the other seven fields
 * (exactly these, nothing else), so anyone can re-verify an export with a few lines in any language.
 */
export interface AuditEntry {
  /** 1, 2, 3… without gaps. */
  seq: number;
  /** ISO-8601 instant as produced by Date#toISOString; must be stored and read back as this exact string. */
  at: string;
  /** Who: `key:<id>`, `system`, `execution:<id>`… */
  actor: string;
  /** What, dotted: `workflow.create`, `execution.node.succeeded`, `key.revoke`… */
  action: string;
  /** On what: `workflow:<id>`, `execution:<id>`, `key:<id>`. */
  target: string;
  /** JSON only, already redacted: the chain makes it impossible to scrub a secret out later. */
  details: JsonValue;
  prevHash: string;
  hash: string;
}

export interface AuditFields {
  actor: string;
  action: string;
  target: string;
  details?: unknown;
  /** Defaults to now. */
  at?: Date;
}

export interface AuditHead {
  seq: number;
  hash: string;
}

export type ChainBreakReason = 'hash-mismatch' | 'prev-mismatch' | 'seq-gap';

export type ChainVerification =
  | { ok: true; count: number; head: AuditHead | null }
  | {
      ok: false;
      /** seq of the first entry that does not verify (for a gap: the entry found where another was expected). */
      brokenAt: number;
      reason: ChainBreakReason;
      /** Entries that verified before the break. */
      count: number;
      /** Last entry that verified, from which a repair or investigation can start. */
      lastGood: AuditHead | null;
      /** Human-readable, e.g. "expected seq 57, found 58". */
      message: string;
    };

export function hashEntry(entry: Omit<AuditEntry, 'hash'>): string {
  return hashPreimage(entry, canonicalJson(entry.details));
}

/**
 * SHA-256 of the canonical JSON of exactly the seven hashed fields (extra columns a store adds must not
 * change the hash), written out in RFC 8785 key order so the details' canonical text, computed once
 * by appendEntry, is not computed again.
 */
function hashPreimage(entry: Omit<AuditEntry, 'hash' | 'details'>, detailsText: string): string {
  const text =
    `{"action":${canonicalJson(entry.action)},"actor":${canonicalJson(entry.actor)},"at":${canonicalJson(entry.at)},` +
    `"details":${detailsText},"prevHash":${canonicalJson(entry.prevHash)},"seq":${canonicalJson(entry.seq)},"target":${canonicalJson(entry.target)}}`;
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * Builds the entry that follows `prev` (or the genesis entry). `details` is normalized through its
 * canonical JSON (dropping undefined, Dates → ISO strings…) so the returned entry equals what a JSON/JSONB
 * column gives back, and later changes to the caller's object cannot desynchronize it from its hash.
 * The caller serializes appends (one writer, or a row lock on the head) so two entries never share a prev.
 */
export function appendEntry(prev: AuditEntry | AuditHead | undefined, fields: AuditFields): AuditEntry {
  const { detailsText, ...rest } = chainEntry(prev, fields);
  // stored as its JSON form, so the entry equals what a jsonb column gives back
  return { ...rest, details: JSON.parse(detailsText) as JsonValue };
}

/** An entry whose details are kept as their canonical JSON text: what a store writes, without parsing it back. */
export type ChainedEntry = Omit<AuditEntry, 'details'> & { detailsText: string };

/** appendEntry for a store that writes the details as JSON text (the same hash, no round trip through objects). */
export function chainEntry(prev: AuditEntry | AuditHead | undefined, fields: AuditFields): ChainedEntry {
  for (const name of ['actor', 'action', 'target'] as const) {
    if (typeof fields[name] !== 'string' || fields[name] === '') {
      throw new SecurityError('INVALID_ARGUMENT', `audit entry needs a non-empty ${name}`);
    }
  }
  const at = fields.at ?? new Date();
  if (!(at instanceof Date) || Number.isNaN(at.getTime())) throw new SecurityError('INVALID_ARGUMENT', 'audit entry `at` must be a valid Date');
  const detailsText = canonicalJson(fields.details ?? null);
  const entry = {
    seq: prev ? prev.seq + 1 : 1,
    at: at.toISOString(),
    actor: fields.actor,
    action: fields.action,
    target: fields.target,
    prevHash: prev ? prev.hash : GENESIS_HASH,
  };
  return { ...entry, detailsText, hash: hashPreimage(entry, detailsText) };
}

export interface VerifyChainOptions {
  /**
   * Verify a suffix of the chain: the entry before the first one given (e.g. an anchored head or the
   * last checkpoint). Default: the chain starts at seq 1 with the genesis prevHash.
   */
  after?: AuditHead;
}

/**
 * Recomputes the chain in one pass and stops at the first broken link. Holds only the previous entry, so
 * memory stays constant for any length when fed an async iterable that pages through the table (ordered
 * by seq). Per entry, in this order: seq must be prev+1, prevHash must equal prev.hash, hash must match
 * the recomputed one. A tampered field of entry n reports n as 'hash-mismatch'; a tampered entry whose
 * hash was recomputed too reports n+1 as 'prev-mismatch'; a deleted entry reports its successor as 'seq-gap'.
 */
export async function verifyChain(
  entries: Iterable<AuditEntry> | AsyncIterable<AuditEntry>,
  options: VerifyChainOptions = {},
): Promise<ChainVerification> {
  let expectedSeq = options.after ? options.after.seq + 1 : 1;
  let expectedPrev = options.after ? options.after.hash : GENESIS_HASH;
  let lastGood: AuditHead | null = options.after ? { seq: options.after.seq, hash: options.after.hash } : null;
  let count = 0;
  const broken = (entry: AuditEntry, reason: ChainBreakReason, message: string): ChainVerification => ({
    ok: false,
    brokenAt: entry.seq,
    reason,
    count,
    lastGood,
    message,
  });
  const check = (entry: AuditEntry): ChainVerification | undefined => {
    if (entry.seq !== expectedSeq) return broken(entry, 'seq-gap', `expected seq ${expectedSeq}, found ${entry.seq}`);
    if (entry.prevHash !== expectedPrev) {
      return broken(entry, 'prev-mismatch', `entry ${entry.seq} does not point at the hash of entry ${expectedSeq - 1}`);
    }
    let actual: string;
    try {
      actual = hashEntry(entry);
    } catch (err) {
      // Data that cannot even be canonicalized was not written by appendEntry.
      return broken(entry, 'hash-mismatch', `entry ${entry.seq} cannot be hashed: ${(err as Error).message}`);
    }
    if (actual !== entry.hash) return broken(entry, 'hash-mismatch', `entry ${entry.seq} content does not match its hash`);
    count++;
    lastGood = { seq: entry.seq, hash: entry.hash };
    expectedSeq = entry.seq + 1;
    expectedPrev = entry.hash;
    return undefined;
  };

  // Arrays and other sync iterables skip for-await, which would cost a microtask per entry.
  if (Symbol.iterator in entries) {
    for (const entry of entries) {
      const failure = check(entry);
      if (failure) return failure;
    }
  } else {
    for await (const entry of entries) {
      const failure = check(entry);
      if (failure) return failure;
    }
  }
  return { ok: true, count, head: lastGood };
}
