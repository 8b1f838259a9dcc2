import type { NodeLogger } from '@anchorflow/plugin-sdk';
import type { ActiveBatch, ChainDriver } from '../batcher/batch.js';
import type { CasperChainConfig } from '../config.js';
import type { ProofAnchor, Proof } from '../proof/proof-format.js';
import type { Check } from '../proof/verify.js';
import type { CasperAnchorClient } from './casper-port.js';

/** `ActiveBatch.chain` for a Casper network */
interface CasperProgress {
  /** set before submitting: a restart that finds it without txHash cannot know whether the submit landed */
  submittingSince?: number;
  txHash?: string;
  processed?: { blockHash: string; blockHeight: number; timestamp: string };
  resubmits?: number;
}

const strip0x = (h: string) => h.replace(/^0x/, '').toLowerCase();
const with0x = (h: string) => '0x' + strip0x(h);

/**
 * Anchors a batch through the stored contract's `anchor(root: 32 bytes, batch_id: 32 bytes, count: u32)`
 * entry point, then waits for the transaction to be processed in a block that is `confirmations` deep and
 * still the block at that height. Casper signs and submits in one step, so a kill between the submit and
 * the save can send a batch twice: the operator's contract must refuse a root it already holds (README).
 */
export class CasperDriver implements ChainDriver {
  constructor(
    private readonly config: CasperChainConfig,
    private readonly client: CasperAnchorClient,
    private readonly logger: NodeLogger,
    private readonly now: () => number,
  ) {}

  async advance(batch: ActiveBatch, save: () => Promise<void>): Promise<ProofAnchor | undefined> {
    const p = batch.chain as CasperProgress;
    if (!p.txHash) {
      if (p.submittingSince !== undefined) this.logger.warn('a Casper submit was interrupted; submitting again (the contract refuses a duplicate root)', { event: 'chain.casper.resubmit', network: this.config.name, batchId: batch.id });
      p.submittingSince = this.now();
      await save();
      const { txHash } = await this.client.submitAnchor({ root: strip0x(batch.root), batchId: strip0x(batch.id), count: batch.keys.length });
      p.txHash = strip0x(txHash);
      await save();
      this.logger.info('anchor transaction sent', { event: 'chain.tx.sent', network: this.config.name, batchId: batch.id, txHash: p.txHash });
      return undefined;
    }
    const status = await this.client.status(p.txHash);
    if (status.state === 'pending') return undefined;
    if (status.error) {
      this.logger.warn('anchor transaction failed on chain; submitting again', { event: 'chain.tx.reverted', network: this.config.name, batchId: batch.id, txHash: p.txHash, error: status.error });
      delete p.txHash;
      delete p.processed;
      p.resubmits = (p.resubmits ?? 0) + 1;
      await save();
      return undefined;
    }
    const processed = { blockHash: strip0x(status.blockHash), blockHeight: status.blockHeight, timestamp: status.timestamp };
    if (p.processed && p.processed.blockHash !== processed.blockHash) this.logger.warn('anchoring block changed', { event: 'chain.reorg', network: this.config.name, batchId: batch.id });
    if (!p.processed || p.processed.blockHash !== processed.blockHash) {
      p.processed = processed;
      await save();
    }
    const canonical = await this.client.block(processed.blockHeight);
    if (!canonical || strip0x(canonical.hash) !== processed.blockHash) return undefined;
    const latest = await this.client.latestBlockHeight();
    if (latest - processed.blockHeight + 1 < this.config.confirmations) return undefined;
    return {
      chain: 'casper',
      network: this.config.name,
      txHash: with0x(p.txHash),
      block: processed.blockHeight,
      blockHash: with0x(processed.blockHash),
      contract: with0x(this.config.contractHash),
      timestamp: new Date(processed.timestamp).toISOString(),
    };
  }

  close(): void {}
}

/** Online checks of a Casper proof: processed without error in that block, which is canonical and deep enough. */
export async function checkCasperProof(proof: Proof, client: CasperAnchorClient, confirmations: number): Promise<Check[]> {
  const a = proof.anchor;
  const status = await client.status(strip0x(a.txHash));
  if (status.state !== 'processed') return [{ name: 'anchor-event', ok: false, detail: `transaction ${a.txHash} is not processed` }];
  const checks: Check[] = [];
  checks.push(
    !status.error && strip0x(status.blockHash) === strip0x(a.blockHash)
      ? { name: 'anchor-event', ok: true, detail: `transaction ${a.txHash} called ${a.contract} and was processed in block ${a.blockHash}` }
      : { name: 'anchor-event', ok: false, detail: status.error ? `transaction ${a.txHash} failed: ${status.error}` : `transaction ${a.txHash} was processed in ${with0x(status.blockHash)}, the proof names ${a.blockHash}` },
  );
  const b = await client.block(a.block);
  checks.push(b && strip0x(b.hash) === strip0x(a.blockHash) ? { name: 'block-canonical', ok: true, detail: `block ${a.block} is ${a.blockHash}` } : { name: 'block-canonical', ok: false, detail: `block ${a.block} is ${b ? with0x(b.hash) : 'missing'}, the proof names ${a.blockHash}` });
  const depth = (await client.latestBlockHeight()) - a.block + 1;
  checks.push({ name: 'confirmations', ok: depth >= confirmations, detail: `${depth} confirmation(s), ${confirmations} required` });
  return checks;
}
