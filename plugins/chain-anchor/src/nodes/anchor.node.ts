import { defineNode, IsOptional, IsString, JSONSchema, Matches, NodeError, TransientNodeError, CanonicalJsonError } from '@anchorflow/plugin-sdk';
import { NETWORKS_KEY, pendingKey, tokenFor, type PendingItem } from '../batcher/batch.js';
import { leafHash } from '../proof/merkle.js';
import { toHex } from '../proof/proof-format.js';
import type { PublishedNetworks } from '../service.js';

export class AnchorParams {
  @JSONSchema({ description: 'A network configured under pluginConfig.chain-anchor.chains' })
  @IsString()
  @Matches(/^[a-z0-9][a-z0-9_-]{0,62}$/, { message: 'network must be a configured network name' })
  network!: string;

  @JSONSchema({ description: 'What to anchor; default: the whole input. Usually an expression such as `=$.invoice`.' })
  @IsOptional()
  data?: unknown;
}

/**
 * Hashes its data into a leaf, leaves it for the network's batcher and waits (suspended: no memory
 * held, survives restarts) until the batcher resumes it with the proof. Re-run with the same
 * idempotency key (crash, retry) it joins the same pending item: one leaf, one proof.
 */
export const anchorNode = defineNode<AnchorParams>({
  type: 'chain.anchor',
  version: 1,
  title: 'Anchor on chain',
  description: 'Merkle-batches the data with others and anchors the root in one transaction; outputs a portable proof.',
  category: 'chain',
  inputs: ['main'],
  outputs: ['main'],
  params: AnchorParams,
  retry: { maxAttempts: 5, backoffMs: 1000 },
  async execute(ctx, input) {
    const network = ctx.params.network;
    const key = pendingKey(network, ctx.idempotencyKey);
    const delivered = (ctx.resume?.data as { proof?: unknown } | undefined)?.proof;
    if (delivered) return { main: { proof: delivered } };
    const networks = await ctx.state.get<PublishedNetworks>(NETWORKS_KEY);
    if (!networks) throw new TransientNodeError('the chain-anchor batcher has not started (no networks published yet)', 'CHAIN_NOT_READY');
    if (!networks[network]) throw new NodeError(`unknown network "${network}" (configured: ${Object.keys(networks).join(', ') || 'none'})`, 'UNKNOWN_NETWORK');
    const existing = await ctx.state.get<PendingItem>(key);
    if (existing?.proof) {
      await ctx.state.delete(key);
      return { main: { proof: existing.proof } };
    }
    let leaf: string;
    try {
      leaf = toHex(leafHash(ctx.params.data === undefined ? input : ctx.params.data));
    } catch (err) {
      if (err instanceof CanonicalJsonError) throw new NodeError(`data cannot be anchored: ${err.message}`, 'DATA_NOT_JSON', { path: err.path }, { cause: err });
      throw err;
    }
    const token = tokenFor(ctx.idempotencyKey);
    await ctx.state.update<PendingItem>(key, (cur) => cur ?? { leaf, token, enqueuedAt: ctx.now() });
    return ctx.suspend({ token });
  },
});
