import { definePlugin, type CredentialTypeDefinition } from '@anchorflow/plugin-sdk';
import { ChainAnchorConfigDto } from './config.js';
import { batcherService } from './service.js';
import { anchorNode } from './nodes/anchor.node.js';
import { verifyNode } from './nodes/verify.node.js';

export { anchorNode, verifyNode };
export * from './proof/merkle.js';
export * from './proof/proof-format.js';
export * from './proof/verify.js';
export * from './config.js';
export * from './batcher/batch.js';
export * from './batcher/network-batcher.js';
export { AnchorService, batcherService, chainDriverFactory, casperDriverFactory, onlineCheckerFor, publishedNetworks, type AnchorServiceContext, type DriverFactory, type PublishedNetworks } from './service.js';
export { EvmChain, REGISTRY_ABI, ANCHORED_TOPIC } from './evm/evm-chain.js';
export { EvmDriver } from './evm/evm-driver.js';
export { checkEvmProof } from './evm/evm-verify.js';
export { FailoverRpc, RpcError } from './evm/failover-rpc.js';
export { CasperDriver, checkCasperProof } from './casper/casper-driver.js';
export type { CasperAnchorClient, CasperClientOptionsLike } from './casper/casper-port.js';
export { AnchorRegistryArtifact } from './evm/anchor-registry.artifact.js';

/** the signing keys, as vault credential types: the vault refuses data of another shape when it is saved */
export const CHAIN_CREDENTIALS: CredentialTypeDefinition[] = [
  {
    type: 'evm-signer',
    title: 'EVM signing key',
    secretFields: ['privateKey'],
    fields: { privateKey: { type: 'string', secret: true, description: 'the private key: 32 bytes as 64 hex digits, with or without 0x' } },
  },
  {
    type: 'casper-signer',
    title: 'Casper signing key',
    secretFields: ['privateKeyPem'],
    fields: {
      privateKeyPem: { type: 'string', secret: true, description: 'the private key as PEM (-----BEGIN PRIVATE KEY----- …)' },
      algorithm: { type: 'string', enum: ['ed25519', 'secp256k1'], description: 'the key\'s algorithm' },
    },
  },
];

export default definePlugin({
  name: '@anchorflow/plugin-chain-anchor',
  version: '0.1.0',
  nodes: [anchorNode, verifyNode],
  services: [batcherService],
  config: ChainAnchorConfigDto,
  credentials: CHAIN_CREDENTIALS,
});
