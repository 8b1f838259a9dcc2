import { hash as oneShotHash } from 'node:crypto';
import { canonicalJson } from '@anchorflow/plugin-sdk';

/**
 * The hash chain over an execution's events (ARCHITECTURE §9, "Execution receipts"), byte for byte:
 *
 *   h0 = SHA-256(UTF-8 of "anchorflow/history/v1:" ‖ executionId)
 *   hN = SHA-256(UTF-8 of h(N-1) ‖ the RFC 8785 canonical JSON of event N without its `executionId` and
 *        `hash` members)
 *
 * every h written as text, 0x + 64 lowercase hex digits (so the preimage of hN is one UTF-8 string). The executionId is bound through h0, so a history cannot be
 * passed off as another execution's. Any event type is covered the same way (the body is the whole event),
 * so new event types need nothing here; they must only not use the member names `hash` and `executionId`
 * for anything else. The store computes each event's hash once, where it serialises the event, and keeps
 * it in the stored event (`hash`); `historyHead` is the last event's hash.
 */
export const HISTORY_CHAIN_VERSION = 'anchorflow/history/v1';

export function historyGenesis(executionId: string): string {
  return '0x' + oneShotHash('sha256', `${HISTORY_CHAIN_VERSION}:${executionId}`, 'hex');
}

/** One link: the hash after an event whose canonical body (without executionId and hash) is `canonicalBody`. */
export function chainLink(prev: string, canonicalBody: string): string {
  return '0x' + oneShotHash('sha256', prev + canonicalBody, 'hex');
}

/**
 * The canonical body an event's hash covers: RFC 8785 canonical JSON of every member but `executionId` and
 * `hash`. Throws CanonicalJsonError for what canonical JSON refuses (lone surrogates, bigints, NaN, cycles).
 * It runs once per stored event on the group commit's path; the SDK's canonicalJson takes its lean path
 * for the plain data events are made of.
 */
export function eventBody(event: object): string {
  return canonicalJson(event, NOT_IN_BODY);
}

const NOT_IN_BODY: ReadonlySet<string> = new Set(['executionId', 'hash']);

export interface HistoryCheck {
  ok: boolean;
  /** events whose links were checked before the first broken one (all of them when ok) */
  count: number;
  /** the hash of the last good event (the genesis when none) */
  head: string;
  /** the first broken link */
  brokenAt?: { index: number; seq: number | undefined; type: string | undefined; reason: string };
}

/**
 * Recomputes the chain over exported or stored events (in seq order, each carrying its `hash`) and
 * names the first link that does not hold: a changed event no longer hashes to its stored hash, a
 * removed or reordered one breaks the seq sequence, a rewritten tail changes the head.
 */
export function verifyHistory(executionId: string, events: readonly unknown[]): HistoryCheck {
  let prev = historyGenesis(executionId);
  for (let i = 0; i < events.length; i++) {
    const e = events[i] as Record<string, unknown> | null;
    const seq = typeof e?.seq === 'number' ? e.seq : undefined;
    const type = typeof e?.type === 'string' ? e.type : undefined;
    const broken = (reason: string): HistoryCheck => ({ ok: false, count: i, head: prev, brokenAt: { index: i, seq, type, reason } });
    if (typeof e !== 'object' || e === null || Array.isArray(e)) return broken('is not an event object');
    if (e.executionId !== undefined && e.executionId !== executionId) return broken(`belongs to execution ${String(e.executionId)}`);
    if (seq !== i + 1) return broken(`has seq ${String(e.seq)} where ${i + 1} was expected (an event was removed, added or reordered)`);
    if (typeof e.hash !== 'string' || !/^0x[0-9a-f]{64}$/.test(e.hash)) return broken('carries no hash (0x + 64 hex digits)');
    let body: string;
    try {
      body = eventBody(e);
    } catch (err) {
      return broken(`cannot be canonicalized: ${(err as Error).message}`);
    }
    const h = chainLink(prev, body);
    if (h !== e.hash) return broken(`hashes to ${h}, but its stored hash is ${e.hash}: the event or one before it was changed`);
    prev = h;
  }
  return { ok: true, count: events.length, head: prev };
}

/** What a receipt states about an execution; its §9 leaf is what gets anchored. */
export interface ReceiptBody {
  v: 1;
  executionId: string;
  workflowId: string;
  version: number;
  status: 'succeeded' | 'failed' | 'cancelled';
  eventCount: number;
  historyHead: string;
}

/**
 * The receipt statement of a finished history (events in seq order, each with its hash), or a reason
 * why there is none: not started, not finished, hashes missing.
 */
export function receiptBodyOf(executionId: string, events: readonly Record<string, unknown>[]): ReceiptBody | string {
  const first = events[0];
  const last = events[events.length - 1];
  if (typeof last?.seq !== 'number') return 'the history is empty';
  if (!first || first.type !== 'execution.started') return 'the history does not begin with execution.started';
  if (!last || last.type !== 'execution.finished') return 'the execution has not ended';
  if (typeof last.hash !== 'string') return 'the history carries no hashes (written before receipts existed)';
  return {
    v: 1,
    executionId,
    workflowId: String(first.workflowId),
    version: Number(first.workflowVersion),
    status: last.status as ReceiptBody['status'],
    // seq runs 1..n without gaps (verifyHistory checks it), so the last seq is the count even when only the ends were read
    eventCount: Number(last.seq),
    historyHead: last.hash,
  };
}

/** §9 leaf of a receipt body (or any JSON statement the daemon anchors: the audit head): SHA-256(0x00 ‖ UTF-8 of its RFC 8785 canonical JSON), 0x hex. */
export function receiptLeaf(body: ReceiptBody | Record<string, unknown>): string {
  const json = canonicalJson(body);
  const pre = Buffer.allocUnsafe(1 + Buffer.byteLength(json, 'utf8'));
  pre[0] = 0;
  pre.write(json, 1, 'utf8');
  return '0x' + oneShotHash('sha256', pre, 'hex');
}
