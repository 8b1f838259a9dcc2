import type { ProofAnchor } from '../proof/proof-format.js';

/**
 * What `chain.anchor` writes to plugin state, keyed `pending/<network>/<idempotencyKey>`. The daemon writes
 * the same for execution receipts and audit heads (ARCHITECTURE §9 "Anchoring without a node"), with
 * `deliverTo` instead of a node waiting on `token`.
 */
export interface PendingItem {
  leaf: string;
  /** the resume token of the suspended chain.anchor node ('' when deliverTo is set) */
  token: string;
  enqueuedAt: number;
  /** set when the proof could not be handed over yet (the node was not suspended at that moment) */
  proof?: unknown;
  /**
   * no node waits: the batcher writes `{proof, anchoredAt}` to this key of the plugin's state and removes
   * the pending item (it must not start with `pending/` or `batch/`)
   */
  deliverTo?: string;
}

/** what the batcher writes at a pending item's `deliverTo` */
export interface DeliveredProof {
  proof: unknown;
  /** epoch ms */
  anchoredAt: number;
}

/**
 * The one batch a network works on, at `batch/<network>`: written before anything is sent, so a
 * daemon killed at any point resumes it (same leaves, same root, the transactions it already signed).
 */
export interface ActiveBatch {
  id: string;
  network: string;
  keys: string[];
  leaves: string[];
  root: string;
  sealedAt: number;
  status: 'anchoring' | 'confirmed';
  /** chain-specific progress (signed transactions, the block that holds one) */
  chain: Record<string, unknown>;
  anchor?: ProofAnchor;
  /** items before this index have been handed their proof */
  deliveredUpTo: number;
}

/** One network's way to get a root on chain and confirmed; `save` persists before anything is broadcast. */
export interface ChainDriver {
  /** moves the batch forward by one step; returns the anchor once it is confirmed and canonical */
  advance(batch: ActiveBatch, save: () => Promise<void>): Promise<ProofAnchor | undefined>;
  /** a step with no batch in flight (a driver may store what it follows, e.g. the Casper stream's position) */
  idle?(): Promise<void>;
  close(): void;
}

export const pendingPrefix = (network: string) => `pending/${network}/`;
export const pendingKey = (network: string, key: string) => `pending/${network}/${key}`;
export const batchKey = (network: string) => `batch/${network}`;
/** non-secret network settings the service publishes for the nodes (they cannot read plugin config) */
export const NETWORKS_KEY = 'networks';
export const tokenFor = (idempotencyKey: string) => `chain.anchor:${idempotencyKey}`;
