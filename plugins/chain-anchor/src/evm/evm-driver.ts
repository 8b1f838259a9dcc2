import { Wallet } from 'ethers';
import type { NodeLogger } from '@anchorflow/plugin-sdk';
import type { ActiveBatch, ChainDriver } from '../batcher/batch.js';
import type { EvmChainConfig } from '../config.js';
import type { ProofAnchor } from '../proof/proof-format.js';
import { EvmChain, type SignedTx } from './evm-chain.js';

interface SentTx extends SignedTx {
  sentAt: number;
}

/** `ActiveBatch.chain` for an EVM network */
interface EvmProgress {
  /** every signed version of the one transaction (same nonce; later ones re-priced) */
  txs?: SentTx[];
  mined?: { txHash: string; block: number; blockHash: string; timestamp: number };
  reorgs?: number;
  /** the fee cap was reached (logged once) */
  capWarned?: boolean;
}

const FEE_BUMP_NUM = 1250n; // +25 %: well above the 10 % (+ 12.5 % for blobs) nodes demand of a replacement
const FEE_BUMP_DEN = 1000n;

/**
 * Anchors a batch's root with one transaction and follows it to a confirmed, canonical block.
 * - The signed transaction is saved before it is broadcast: after a crash the same transaction (same
 *   nonce) is re-broadcast or found mined, never a second one for the batch.
 * - Nonces come from the chain (`pending` count) when a transaction is first signed; a nonce taken by
 *   something else (the key used elsewhere) is noticed and the batch re-signed with a fresh one.
 * - A transaction not mined after feeBumpAfterMs is replaced (same nonce, fees +25 %).
 * - Mined is not final: the stored block hash is compared with the canonical chain on every step until
 *   the confirmations are reached; a reorg that drops it re-anchors before any proof is handed out.
 * - A root the registry already holds (a duplicate, or our own transaction we lost track of) is adopted
 *   from its Anchored event instead of reverting again.
 */
export class EvmDriver implements ChainDriver {
  readonly chain: EvmChain;
  private readonly wallet: Wallet;

  constructor(
    private readonly config: EvmChainConfig,
    privateKey: string,
    private readonly logger: NodeLogger,
    private readonly now: () => number,
  ) {
    this.chain = new EvmChain({ rpcUrls: config.rpcUrls, chainId: config.chainId, registry: config.registry, rpcTimeoutMs: config.rpcTimeoutMs, logger });
    this.wallet = new Wallet(privateKey);
  }

  get address(): string {
    return this.wallet.address;
  }

  async advance(batch: ActiveBatch, save: () => Promise<void>): Promise<ProofAnchor | undefined> {
    const p = batch.chain as EvmProgress;
    if (p.mined) return this.followMined(batch, p, save);
    if (p.txs?.length) return this.followSent(batch, p, save);
    return this.submit(batch, p, save);
  }

  private async submit(batch: ActiveBatch, p: EvmProgress, save: () => Promise<void>): Promise<undefined> {
    if (await this.adoptExisting(batch, p, save)) return undefined;
    const nonce = await this.chain.nonce(this.wallet.address, 'pending');
    const tx = await this.chain.signAnchor(this.wallet, { root: batch.root, count: batch.keys.length, batchId: batch.id }, nonce, await this.chain.fees());
    p.txs = [{ ...tx, sentAt: this.now() }];
    batch.chain = p as Record<string, unknown>;
    await save();
    const sent = await this.chain.broadcast(tx.raw);
    this.logger.info('anchor transaction sent', { event: 'chain.tx.sent', network: this.config.name, batchId: batch.id, txHash: tx.hash, nonce, accepted: sent.accepted, reason: sent.reason });
    if (!sent.accepted && /nonce too low|nonce.*(expired|used)/i.test(sent.reason ?? '')) {
      p.txs = [];
      await save();
    }
    return undefined;
  }

  private async followSent(batch: ActiveBatch, p: EvmProgress, save: () => Promise<void>): Promise<undefined> {
    const txs = p.txs!;
    for (const tx of [...txs].reverse()) {
      const r = await this.chain.receipt(tx.hash);
      if (!r) continue;
      if (r.status === 1 && this.chain.anchorEventIn(r, batch.root)) {
        const b = await this.chain.block(r.blockNumber);
        p.mined = { txHash: tx.hash, block: r.blockNumber, blockHash: r.blockHash, timestamp: b?.timestamp ?? 0 };
        await save();
        this.logger.info('anchor transaction mined', { event: 'chain.tx.mined', network: this.config.name, batchId: batch.id, txHash: tx.hash, block: r.blockNumber });
        return undefined;
      }
      // reverted: most likely AlreadyAnchored (the root got on chain another way)
      this.logger.warn('anchor transaction reverted', { event: 'chain.tx.reverted', network: this.config.name, batchId: batch.id, txHash: tx.hash });
      if (!(await this.adoptExisting(batch, p, save))) {
        p.txs = [];
        await save();
      }
      return undefined;
    }
    const last = txs[txs.length - 1];
    const confirmedNonce = await this.chain.nonce(this.wallet.address, 'latest');
    if (confirmedNonce > last.nonce) {
      // our nonce is used but none of our versions has a receipt: another transaction took it (or a
      // receipt lags): look for the root on chain once more, else sign again with a fresh nonce
      if (await this.adoptExisting(batch, p, save)) return undefined;
      this.logger.warn('nonce taken by another transaction; re-signing', { event: 'chain.nonce.reconciled', network: this.config.name, batchId: batch.id, nonce: last.nonce, chainNonce: confirmedNonce });
      p.txs = [];
      await save();
      return undefined;
    }
    const cap = BigInt(this.config.maxFeeGwei) * 1_000_000_000n;
    if (this.now() - last.sentAt >= this.config.feeBumpAfterMs && BigInt(last.maxFeePerGas) >= cap) {
      if (!p.capWarned) {
        this.logger.error('anchor transaction stuck at the fee cap (maxFeeGwei); not re-pricing further', { event: 'chain.tx.fee_cap', network: this.config.name, batchId: batch.id, txHash: last.hash, maxFeePerGas: last.maxFeePerGas });
        p.capWarned = true;
        await save();
      }
    } else if (this.now() - last.sentAt >= this.config.feeBumpAfterMs) {
      const current = await this.chain.fees();
      const bump = (old: string, cur: bigint) => {
        const b = (BigInt(old) * FEE_BUMP_NUM) / FEE_BUMP_DEN + 1n;
        return b > cur ? b : cur;
      };
      const fees = { maxFeePerGas: bump(last.maxFeePerGas, current.maxFeePerGas), maxPriorityFeePerGas: bump(last.maxPriorityFeePerGas, current.maxPriorityFeePerGas) };
      if (fees.maxFeePerGas > cap) fees.maxFeePerGas = cap;
      if (fees.maxPriorityFeePerGas > fees.maxFeePerGas) fees.maxPriorityFeePerGas = fees.maxFeePerGas;
      const tx = await this.chain.signAnchor(this.wallet, { root: batch.root, count: batch.keys.length, batchId: batch.id }, last.nonce, fees);
      txs.push({ ...tx, sentAt: this.now() });
      await save();
      const sent = await this.chain.broadcast(tx.raw);
      this.logger.warn('anchor transaction re-priced', { event: 'chain.tx.bumped', network: this.config.name, batchId: batch.id, txHash: tx.hash, nonce: last.nonce, maxFeePerGas: tx.maxFeePerGas, accepted: sent.accepted, reason: sent.reason });
      return undefined;
    }
    // the node may have lost it (restart, mempool eviction): broadcasting the same bytes again is harmless
    if (!(await this.chain.transactionKnown(last.hash))) await this.chain.broadcast(last.raw);
    return undefined;
  }

  private async followMined(batch: ActiveBatch, p: EvmProgress, save: () => Promise<void>): Promise<ProofAnchor | undefined> {
    const mined = p.mined!;
    const r = await this.chain.receipt(mined.txHash);
    const canonical = r ? await this.chain.block(r.blockNumber) : null;
    if (!r || !canonical || canonical.hash !== r.blockHash || r.blockHash !== mined.blockHash) {
      p.reorgs = (p.reorgs ?? 0) + 1;
      delete p.mined;
      if (r && canonical && canonical.hash === r.blockHash) {
        // re-mined in another block: follow that one from zero confirmations
        p.mined = { txHash: mined.txHash, block: r.blockNumber, blockHash: r.blockHash, timestamp: canonical.timestamp };
      } else if (!(await this.chain.transactionKnown(mined.txHash))) {
        p.txs = []; // gone with the dropped block: anchor again
      }
      await save();
      this.logger.warn('anchoring block left the canonical chain', { event: 'chain.reorg', network: this.config.name, batchId: batch.id, txHash: mined.txHash, block: mined.block, blockHash: mined.blockHash, now: p.mined ?? 'not on chain: re-anchoring' });
      return undefined;
    }
    const latest = await this.chain.latestBlockNumber();
    if (latest - mined.block + 1 < this.config.confirmations) return undefined;
    return {
      chain: 'evm',
      network: this.config.name,
      chainId: this.config.chainId,
      txHash: mined.txHash,
      block: mined.block,
      blockHash: mined.blockHash,
      contract: this.config.registry!,
      timestamp: new Date(mined.timestamp * 1000).toISOString(),
    };
  }

  /** the registry already holds this root: take its transaction instead of sending one */
  private async adoptExisting(batch: ActiveBatch, p: EvmProgress, save: () => Promise<void>): Promise<boolean> {
    if ((await this.chain.anchoredAt(batch.root)) === 0) return false;
    const found = await this.chain.findAnchor(batch.root);
    if (!found) return false;
    const b = await this.chain.block(found.block);
    p.mined = { txHash: found.txHash, block: found.block, blockHash: found.blockHash, timestamp: b?.timestamp ?? 0 };
    batch.chain = p as Record<string, unknown>;
    await save();
    this.logger.info('root already anchored; adopting its transaction', { event: 'chain.tx.adopted', network: this.config.name, batchId: batch.id, txHash: found.txHash });
    return true;
  }

  close(): void {
    this.chain.destroy();
  }
}
