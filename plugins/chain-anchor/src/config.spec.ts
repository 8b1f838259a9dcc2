import { describe, expect, it } from '@jest/globals';
import { MemoryPluginState, runNode } from '@anchorflow/plugin-sdk/testing';
import { NodeError } from '@anchorflow/plugin-sdk';
import { ChainAnchorConfigError, parseChainAnchorConfig } from './config.js';
import { anchorNode } from './nodes/anchor.node.js';
import { verifyNode } from './nodes/verify.node.js';
import { NETWORKS_KEY } from './batcher/batch.js';

const problemsOf = (raw: unknown) => {
  try {
    parseChainAnchorConfig(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(ChainAnchorConfigError);
    return (err as ChainAnchorConfigError).problems;
  }
  throw new Error('config accepted');
};

describe('chain-anchor config', () => {
  it('accepts an EVM and a Casper network with defaults filled in', () => {
    const c = parseChainAnchorConfig({
      chains: {
        local: { kind: 'evm', rpcUrls: ['http://127.0.0.1:8545'], chainId: 31337, registry: '0x' + 'AB'.repeat(20), signer: 'k' },
        'casper-test': { kind: 'casper', nodeUrl: 'http://127.0.0.1:7777/rpc', sseUrl: 'http://127.0.0.1:19999/events', chainName: 'casper-test', contractHash: 'hash-' + 'ab'.repeat(32), paymentMotes: '2500000000', signer: 'ck' },
      },
    });
    expect(c.chains.local).toMatchObject({ kind: 'evm', confirmations: 1, batchSize: 10_000, maxWaitMs: 2000, registry: '0x' + 'ab'.repeat(20) });
    expect(c.chains['casper-test']).toMatchObject({ kind: 'casper', contractHash: 'ab'.repeat(32), sseUrl: 'http://127.0.0.1:19999/events', sidecarTimeoutMs: 2000, nodeTimeoutMs: 10_000, legacyDeploys: false, healthCheckMs: 15_000 });
  });

  it('names every bad key at once', () => {
    const problems = problemsOf({
      chains: {
        local: { kind: 'evm', rpcUrls: ['http://ok:1', 'ftp://nope'], chainId: 'x', registry: '0x12', confirmations: 0, bogus: 1 },
        cas: { kind: 'casper', nodeUrl: 'nope', sseUrl: 'ws://x', chainName: 'casper-test', paymentMotes: 5 },
        weird: { kind: 'bitcoin' },
      },
      extra: true,
    });
    expect(problems.map((p) => p.key)).toEqual(
      expect.arrayContaining([
        'pluginConfig.chain-anchor.extra',
        'pluginConfig.chain-anchor.chains.local.rpcUrls[1]',
        'pluginConfig.chain-anchor.chains.local.chainId',
        'pluginConfig.chain-anchor.chains.local.registry',
        'pluginConfig.chain-anchor.chains.local.confirmations',
        'pluginConfig.chain-anchor.chains.local.bogus',
        'pluginConfig.chain-anchor.chains.cas.nodeUrl',
        'pluginConfig.chain-anchor.chains.cas.sseUrl',
        'pluginConfig.chain-anchor.chains.cas.contractHash',
        'pluginConfig.chain-anchor.chains.cas.paymentMotes',
        'pluginConfig.chain-anchor.chains.weird.kind',
      ]),
    );
  });
});

describe('chain nodes refuse bad input clearly', () => {
  it('chain.anchor: an unknown network is a NodeError naming the configured ones', async () => {
    const state = new MemoryPluginState();
    await state.set(NETWORKS_KEY, { local: { kind: 'evm', rpcUrls: ['http://127.0.0.1:1'], chainId: 1, confirmations: 1, rpcTimeoutMs: 100 } });
    await expect(runNode(anchorNode, { params: { network: 'mainnet' }, input: { a: 1 }, state })).rejects.toThrow(/unknown network "mainnet" \(configured: local\)/);
  });

  it('chain.anchor: data JSON cannot carry is refused (not retried)', async () => {
    const state = new MemoryPluginState();
    await state.set(NETWORKS_KEY, { local: { kind: 'evm', rpcUrls: ['http://127.0.0.1:1'], chainId: 1, confirmations: 1, rpcTimeoutMs: 100 } });
    const err = await runNode(anchorNode, { params: { network: 'local', data: '=$.x' }, input: { x: 'ok' }, state, idempotencyKey: 'k' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeUndefined(); // a string is fine: this run suspends
    const bad = await runNode(anchorNode, { params: { network: 'local' }, input: { n: NaN }, state, idempotencyKey: 'k2' }).catch((e: any) => e);
    expect(bad).toBeInstanceOf(NodeError);
    expect(bad.code).toBe('DATA_NOT_JSON');
    expect(bad.retryable).toBe(false);
  });

  it('chain.verify: a malformed proof is a NodeError listing the bad fields', async () => {
    const err = await runNode(verifyNode, { params: { proof: { v: 1, hash: 'sha256' }, online: false } }).catch((e: any) => e);
    expect(err).toBeInstanceOf(NodeError);
    expect(err.code).toBe('PROOF_MALFORMED');
    expect(err.message).toMatch(/\$\.leaf/);
  });
});

describe('signing key credential types', () => {
  it('the vault is told the shape of evm-signer and casper-signer data, so a wrong one is refused when saved', async () => {
    const { CHAIN_CREDENTIALS } = await import('./index.js');
    const { validateCredentialData } = await import('@anchorflow/plugin-sdk');
    const [evm, cas] = CHAIN_CREDENTIALS;
    expect(validateCredentialData(evm!, { privateKey: '0x' + '11'.repeat(32) })).toEqual([]);
    expect(validateCredentialData(evm!, { key: 'x' }).map((p) => p.path)).toEqual(expect.arrayContaining(['data.privateKey', 'data.key']));
    expect(validateCredentialData(cas!, { privateKeyPem: '-----BEGIN PRIVATE KEY-----', algorithm: 'ed25519' })).toEqual([]);
    expect(validateCredentialData(cas!, { privateKeyPem: '-----BEGIN PRIVATE KEY-----', algorithm: 'rsa' }).map((p) => p.path)).toEqual(['data.algorithm']);
    expect(validateCredentialData(cas!, { privateKeyPem: '-----BEGIN PRIVATE KEY-----' }).map((p) => p.path)).toEqual(['data.algorithm']);
  });
});
