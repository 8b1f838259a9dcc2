import { randomBytes } from 'node:crypto';
import type { NodeLogger, PluginState } from '@anchorflow/plugin-sdk';
import { MerkleTree } from '../proof/merkle.js';
import { fromHex, toHex, type Proof } from '../proof/proof-format.js';
import { batchKey, pendingKey, pendingPrefix, type ActiveBatch, type ChainDriver, type DeliveredProof, type PendingItem } from './batch.js';

/** a delivery key may not overwrite the batcher's own bookkeeping */
const validDeliverTo = (key: string): boolean => key.length > 0 && !key.startsWith('pending/') && !key.startsWith('batch/') && key !== 'networks';

/** What the batcher needs from its service context (a subset of the SDK's ServiceContext). */
export interface BatcherContext {
  readonly state: PluginState;
  readonly logger: NodeLogger;
  now(): number;
  resume(token: string, data?: unknown): Promise<boolean>;
}

const DELIVERY_CHUNK = 500;
const UNCLAIMED_PROOF_TTL_MS = 7 * 24 * 3600_000;

/**
 * One network's batcher: pending leaves → one sealed batch at N items or T ms → one transaction (the
 * driver) → confirmed → every waiting node resumed with its proof. One batch at a time per network, so
 * one signing key has one transaction in flight and its nonce cannot jam. Each `tick` does one step and
 * persists it before the next: a SIGKILL anywhere loses nothing and sends nothing twice.
 */
export class NetworkBatcher {
  private tree?: { id: string; tree: MerkleTree };

  constructor(
    readonly network: string,
    private readonly ctx: BatcherContext,
    private readonly driver: ChainDriver,
    private readonly limits: { batchSize: number; maxWaitMs: number },
  ) {}

  /** one step; returns true when there is more to do at once */
  async tick(): Promise<boolean> {
    const batch = await this.ctx.state.get<ActiveBatch>(batchKey(this.network));
    if (batch) return this.advance(batch);
    await this.driver.idle?.();
    return this.sealIfDue();
  }

  private async sealIfDue(): Promise<boolean> {
    const listed = await this.ctx.state.list<PendingItem>(pendingPrefix(this.network), { limit: this.limits.batchSize + 1000 });
    const waiting = listed.filter((e) => e.value.proof === undefined);
    const unacked = listed.filter((e) => e.value.proof !== undefined);
    if (unacked.length) await this.retryHandOver(unacked);
    if (waiting.length === 0) return false;
    let oldest = Infinity; // a loop, not Math.min(...): 100,000 arguments would overflow the stack
    for (const e of waiting) if (e.value.enqueuedAt < oldest) oldest = e.value.enqueuedAt;
    if (waiting.length < this.limits.batchSize && this.ctx.now() - oldest < this.limits.maxWaitMs) return false;
    const items = waiting.slice(0, this.limits.batchSize);
    const tree = new MerkleTree(items.map((e) => fromHex(e.value.leaf)));
    const batch: ActiveBatch = {
      id: toHex(randomBytes(32)),
      network: this.network,
      keys: items.map((e) => e.key.slice(pendingPrefix(this.network).length)),
      leaves: items.map((e) => e.value.leaf),
      root: toHex(tree.root),
      sealedAt: this.ctx.now(),
      status: 'anchoring',
      chain: {},
      deliveredUpTo: 0,
    };
    this.tree = { id: batch.id, tree };
    await this.ctx.state.set(batchKey(this.network), batch);
    this.ctx.logger.info('batch sealed', { event: 'chain.batch.sealed', network: this.network, batchId: batch.id, items: batch.keys.length, root: batch.root });
    return true;
  }

  private async advance(batch: ActiveBatch): Promise<boolean> {
    const save = () => this.ctx.state.set(batchKey(this.network), batch);
    if (batch.status === 'anchoring') {
      const anchor = await this.driver.advance(batch, save);
      if (!anchor) return false;
      batch.anchor = anchor;
      batch.status = 'confirmed';
      await save();
      this.ctx.logger.info('batch anchored', { event: 'chain.batch.confirmed', network: this.network, batchId: batch.id, items: batch.keys.length, txHash: anchor.txHash, block: anchor.block });
    }
    await this.deliver(batch, save);
    return true;
  }

  private treeOf(batch: ActiveBatch): MerkleTree {
    if (this.tree?.id !== batch.id) this.tree = { id: batch.id, tree: new MerkleTree(batch.leaves.map(fromHex)) };
    return this.tree.tree;
  }

  proofOf(batch: ActiveBatch, index: number): Proof {
    const tree = this.treeOf(batch);
    return { v: 1, hash: 'sha256', leaf: batch.leaves[index], path: tree.path(index).map((s) => ({ side: s.side, hash: toHex(s.hash) })), root: batch.root, anchor: batch.anchor! };
  }

  private async deliver(batch: ActiveBatch, save: () => Promise<void>): Promise<void> {
    while (batch.deliveredUpTo < batch.keys.length) {
      const end = Math.min(batch.keys.length, batch.deliveredUpTo + DELIVERY_CHUNK);
      const work: Promise<void>[] = [];
      for (let i = batch.deliveredUpTo; i < end; i++) work.push(this.handOver(batch.keys[i], this.proofOf(batch, i)));
      await Promise.all(work);
      batch.deliveredUpTo = end;
      await save();
    }
    await this.ctx.state.delete(batchKey(this.network));
    this.tree = undefined;
  }

  /** resumes the waiting node; when it is not waiting (yet), the proof stays beside its pending item */
  private async handOver(key: string, proof: Proof): Promise<void> {
    const k = pendingKey(this.network, key);
    const item = await this.ctx.state.get<PendingItem>(k);
    if (!item) return;
    if (typeof item.deliverTo === 'string' && validDeliverTo(item.deliverTo)) {
      // written before the pending item goes: a SIGKILL in between repeats the same write
      await this.ctx.state.set(item.deliverTo, { proof, anchoredAt: this.ctx.now() } satisfies DeliveredProof);
      await this.ctx.state.delete(k);
      return;
    }
    if (await this.ctx.resume(item.token, { proof })) await this.ctx.state.delete(k);
    else await this.ctx.state.update<PendingItem>(k, (cur) => (cur ? { ...cur, proof } : cur));
  }

  private async retryHandOver(entries: Array<{ key: string; value: PendingItem }>): Promise<void> {
    for (const e of entries.slice(0, DELIVERY_CHUNK)) {
      if (await this.ctx.resume(e.value.token, { proof: e.value.proof })) await this.ctx.state.delete(e.key);
      // nobody came for it in a week (execution cancelled or deleted): the proof is dropped, not kept forever
      else if (this.ctx.now() - e.value.enqueuedAt > UNCLAIMED_PROOF_TTL_MS) await this.ctx.state.delete(e.key);
    }
  }
}
