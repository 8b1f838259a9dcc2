import type { NodeLogger } from '@anchorflow/plugin-sdk';
import type { ActiveBatch, ChainDriver } from '../batcher/batch.js';
import type { CasperChainConfig } from '../config.js';
import type { ProofAnchor, Proof } from '../proof/proof-format.js';
import type { Check } from '../proof/verify.js';
import type { CasperAnchorClient, SignedCasperAnchor } from './casper-port.js';

/** `ActiveBatch.chain` for a Casper network */
interface CasperProgress {
  /** the signed call, saved before it is sent: after a crash the same bytes are sent again */
  signed?: SignedCasperAnchor;
  txHash?: string;
  sentAt?: number;
  processed?: { blockHash: string; blockHeight: number; timestamp: string };
  resubmits?: number;
}

const strip0x = (h: string) => h.replace(/^0x/, '').toLowerCase();
const with0x = (h: string) => '0x' + strip0x(h);
const codeOf = (err: unknown) => (err as { code?: string }).code;

/**
 * Anchors a batch through the stored contract's `anchor(root: 32 bytes, batch_id: 32 bytes, count: u32)`
 * entry point, then waits for the transaction to be processed in a block that is `confirmations` deep and
 * still the block at that height. Like on EVM, the call is signed and saved before it is sent, so a kill at
 * any point re-sends those very bytes (same hash) instead of anchoring the batch a second time; the
 * operator's contract refusing a root it holds is the last line of defence.
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
    if (!p.signed) {
      p.signed = this.client.signAnchor({ root: strip0x(batch.root), batchId: strip0x(batch.id), count: batch.keys.length });
      p.txHash = strip0x(p.signed.txHash);
      await save();
      await this.send(batch, p, save);
      return undefined;
    }
    let status;
    try {
      status = await this.client.status(p.txHash!);
    } catch (err) {
      // never reached the network (killed before sending, or dropped): send the saved bytes again
      if (codeOf(err) === 'CASPER_TX_NOT_FOUND') {
        await this.send(batch, p, save);
        return undefined;
      }
      throw err;
    }
    if (status.state === 'pending') return undefined;
    if (status.error) {
      this.logger.warn('anchor transaction failed on chain; signing it again', { event: 'chain.tx.reverted', network: this.config.name, batchId: batch.id, txHash: p.txHash, error: status.error });
      delete p.signed;
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
      txHash: with0x(p.txHash!),
      block: processed.blockHeight,
      blockHash: with0x(processed.blockHash),
      contract: with0x(this.config.contractHash),
      timestamp: new Date(processed.timestamp).toISOString(),
    };
  }

  private async send(batch: ActiveBatch, p: CasperProgress, save: () => Promise<void>): Promise<void> {
    try {
      // as plain JSON again (what plugin state holds): the SDK's parser wants arrays and objects it made itself
      await this.client.submitSigned(JSON.parse(JSON.stringify(p.signed)) as SignedCasperAnchor);
      p.sentAt = this.now();
      await save();
      this.logger.info('anchor transaction sent', { event: 'chain.tx.sent', network: this.config.name, batchId: batch.id, txHash: p.txHash });
    } catch (err) {
      const retryable = (err as { retryable?: boolean }).retryable !== false;
      this.logger.warn('anchor transaction not accepted', { event: 'chain.tx.refused', network: this.config.name, batchId: batch.id, txHash: p.txHash, error: (err as Error).message, retryable });
      if (!retryable && (await this.unknownToNetwork(p.txHash!))) {
        // refused for good (expired, malformed) and not on the network: sign a fresh one at the next step
        delete p.signed;
        delete p.txHash;
        await save();
      }
    }
  }

  private async unknownToNetwork(txHash: string): Promise<boolean> {
    try {
      await this.client.status(txHash);
      return false;
    } catch (err) {
      return codeOf(err) === 'CASPER_TX_NOT_FOUND';
    }
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
