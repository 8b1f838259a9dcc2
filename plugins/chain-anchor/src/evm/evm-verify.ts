import type { Check } from '../proof/verify.js';
import type { Proof } from '../proof/proof-format.js';
import { EvmChain } from './evm-chain.js';

/** Online checks of an EVM proof: the root's Anchored event is in that transaction, whose block is canonical and deep enough. */
export async function checkEvmProof(proof: Proof, chain: EvmChain, confirmations: number): Promise<Check[]> {
  const a = proof.anchor;
  const checks: Check[] = [];
  const chainId = await chain.chainId();
  if (a.chainId !== chainId) return [{ name: 'network', ok: false, detail: `the proof is for chain id ${a.chainId}, the RPC serves chain id ${chainId}` }];
  const r = await chain.receipt(a.txHash);
  if (!r) return [{ name: 'anchor-event', ok: false, detail: `transaction ${a.txHash} is not on chain` }];
  const log = r.logs.find((l) => l.address === a.contract && l.topics[1] === proof.root);
  const ev = log ? new EvmChain({ ...chain.options, registry: a.contract }).anchorEventIn(r, proof.root) : undefined;
  checks.push(
    ev && r.status === 1
      ? { name: 'anchor-event', ok: true, detail: `transaction ${a.txHash} emitted Anchored(${proof.root}) from ${a.contract} (${ev.count} items)` }
      : { name: 'anchor-event', ok: false, detail: `transaction ${a.txHash} has no Anchored event for root ${proof.root} from ${a.contract}` },
  );
  const b = await chain.block(a.block);
  const canonical = b?.hash === a.blockHash && r.blockHash === a.blockHash && r.blockNumber === a.block;
  checks.push(
    canonical
      ? { name: 'block-canonical', ok: true, detail: `block ${a.block} is ${a.blockHash} on the canonical chain` }
      : { name: 'block-canonical', ok: false, detail: `block ${a.block} is ${b?.hash ?? 'missing'} on the canonical chain and the transaction is in ${r.blockHash} (#${r.blockNumber}); the proof names ${a.blockHash}` },
  );
  const latest = await chain.latestBlockNumber();
  const depth = latest - a.block + 1;
  checks.push(depth >= confirmations ? { name: 'confirmations', ok: true, detail: `${depth} confirmation(s), ${confirmations} required` } : { name: 'confirmations', ok: false, detail: `${depth} confirmation(s), ${confirmations} required` });
  return checks;
}
