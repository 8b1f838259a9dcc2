import type { PendingItem } from '@anchorflow/plugin-chain-anchor';
import type { AuditHead } from '@anchorflow/security';

/**
 * The seam between the daemon and the chain-anchor batcher (ARCHITECTURE §9 "Anchoring without a node"):
 * the daemon never imports the plugin to hand it work (only the seam's types, erased at build). It writes
 * pending items into the plugin's state (`pending/<network>/<key>` = {leaf, token: '', enqueuedAt,
 * deliverTo}), the plugin's one-per-cluster batcher anchors them with everything else, and writes
 * `{proof, anchoredAt}` at `deliverTo`.
 */
export const CHAIN_ANCHOR_PLUGIN = '@anchorflow/plugin-chain-anchor';
/** the daemon's own bookkeeping (plugin_state namespace, like the editor's) */
export const RECEIPTS_STATE = '@anchorflow/receipts';

export const receiptPendingPrefix = (network: string): string => `pending/${network}/receipt:`;
export const RECEIPT_PREFIX = 'receipt/';
export const receiptKey = (executionId: string): string => `${RECEIPT_PREFIX}${executionId}`;

export const auditPendingKey = (network: string, seq: number): string => `pending/${network}/audit:${seq}`;
export const AUDIT_ANCHOR_PREFIX = 'audit/';
/** zero-padded so the newest anchored head is the last key in order */
export const auditAnchorKey = (seq: number): string => `${AUDIT_ANCHOR_PREFIX}${String(seq).padStart(16, '0')}`;

/** what gets anchored for the audit log: its head, as a statement whose §9 leaf is the proof's leaf */
export function auditHeadStatement(head: AuditHead): { v: 1; kind: 'anchorflow.audit-head'; seq: number; hash: string } {
  return { v: 1, kind: 'anchorflow.audit-head', seq: head.seq, hash: head.hash };
}

/** the pending item the batcher expects: its own type, so a change to the seam breaks this build, not the hand-off */
export function pendingItem(leaf: string, deliverTo: string, now: number): PendingItem & { deliverTo: string } {
  return { leaf, token: '', enqueuedAt: now, deliverTo };
}
