import type { FollowOptions } from './sse-follower.js';

/**
 * What the Casper driver needs of the Casper client (plugins/chain-anchor/src/casper/casper-client.ts,
 * written beside this on the casper branch: sidecar first with a 2 s timeout, node RPC as the 10 s
 * fallback, casper-js-sdk 5 transactions or legacy deploys). Hashes are hex without 0x.
 */
export interface SignedCasperAnchor {
  kind: 'transaction' | 'deploy';
  txHash: string;
  json: unknown;
}

export interface CasperAnchorClient {
  /** builds and signs the anchor call without sending it (stored before it is sent) */
  signAnchor(a: { root: string; batchId: string; count: number }): SignedCasperAnchor;
  /** sends a signed call (again): the same bytes, the same hash */
  submitSigned(signed: SignedCasperAnchor): Promise<{ txHash: string }>;
  status(txHash: string): Promise<{ state: 'pending' } | { state: 'processed'; blockHash: string; blockHeight: number; timestamp: string; error?: string }>;
  latestBlockHeight(): Promise<number>;
  block(hashOrHeight: string | number): Promise<{ hash: string; height: number; parentHash: string; timestamp: string } | undefined>;
  /** the stored-contract call a transaction makes (contract hash, entry point, runtime args as hex bytes); undefined for another kind of call */
  anchorCall(txHash: string): Promise<{ contractHash: string; entryPoint: string; args: Record<string, string> } | undefined>;
  /** follows the sidecar's SSE stream until opts.signal aborts (clients without a sidecar leave it out or throw CASPER_BAD_CONFIG) */
  follow?(opts: FollowOptions): Promise<void>;
}

export interface CasperClientOptionsLike {
  sidecarUrl?: string;
  sseUrl?: string;
  nodeUrl: string;
  chainName: string;
  contractHash: string;
  paymentMotes: string;
  legacyDeploys?: boolean;
  sidecarTimeoutMs?: number;
  nodeTimeoutMs?: number;
  signer: { privateKeyPem: string; algorithm: 'ed25519' | 'secp256k1' };
  metrics?: { fallback(op: string): void; latency(adapter: 'sidecar' | 'node', op: string, ms: number): void };
}
