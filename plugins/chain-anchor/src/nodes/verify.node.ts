import { defineNode, IsBoolean, IsObject, IsOptional, JSONSchema, NodeError, TransientNodeError } from '@anchorflow/plugin-sdk';
import { NETWORKS_KEY } from '../batcher/batch.js';
import { ProofFormatError } from '../proof/proof-format.js';
import { verifyProof } from '../proof/verify.js';
import { onlineCheckerFor, type PublishedNetworks } from '../service.js';

export class VerifyParams {
  @JSONSchema({ description: 'The proof file (ARCHITECTURE §9), usually `=$.proof`' })
  @IsObject()
  proof!: Record<string, unknown>;

  @JSONSchema({ description: 'The original data; when given, the leaf must be its hash' })
  @IsOptional()
  data?: unknown;

  @JSONSchema({ description: 'Also check on chain (default true): the event in that transaction, block canonical and deep enough' })
  @IsOptional()
  @IsBoolean()
  online?: boolean;
}

export const verifyNode = defineNode<VerifyParams>({
  type: 'chain.verify',
  version: 1,
  title: 'Verify a proof',
  description: 'Checks a proof offline (leaf → root) and online (root anchored in that transaction, block canonical and deep enough).',
  category: 'chain',
  inputs: ['main'],
  outputs: ['main'],
  params: VerifyParams,
  retry: { maxAttempts: 3, backoffMs: 1000 },
  async execute(ctx) {
    const online = ctx.params.online !== false;
    const networks = online ? ((await ctx.state.get<PublishedNetworks>(NETWORKS_KEY)) ?? {}) : {};
    try {
      const verdict = await verifyProof(ctx.params.proof, {
        ...('data' in ctx.params && ctx.params.data !== undefined ? { data: ctx.params.data, hasData: true } : {}),
        ...(online ? { online: onlineCheckerFor(networks) } : {}),
      });
      const unreachable = verdict.checks.find((c) => c.name === 'online' && !c.ok);
      if (unreachable && /every RPC URL|timed out/.test(unreachable.detail)) throw new TransientNodeError(unreachable.detail, 'CHAIN_UNREACHABLE');
      return { main: verdict };
    } catch (err) {
      if (err instanceof ProofFormatError) throw new NodeError(err.message, 'PROOF_MALFORMED', err.problems, { cause: err });
      throw err;
    }
  },
});
