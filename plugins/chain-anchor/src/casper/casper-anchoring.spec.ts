/**
 * chain.anchor on Casper: the batcher, the Casper driver and the real CasperClient (casper-js-sdk)
 * against the fake Casper node + sidecar of test/support/fake-casper.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import casper from 'casper-js-sdk';
import { startFakeCasper, type FakeCasper } from '../../../../test/support/fake-casper/index.js';
import { anchorItem, resumeItem, serviceHarness, stepUntil } from '../spec-support/harness.js';
import { batchKey, type ActiveBatch } from '../batcher/batch.js';
import { verifyProof } from '../proof/verify.js';
import { onlineCheckerFor, publishedNetworks } from '../service.js';
import { parseChainAnchorConfig } from '../config.js';
import type { Proof } from '../proof/proof-format.js';

const CONTRACT = 'c0ffee'.padEnd(64, '0');
let fake: FakeCasper;
const pem = casper.PrivateKey.generate(casper.KeyAlgorithm.ED25519).toPem();
const creds = { 'casper-key': { privateKeyPem: pem, algorithm: 'ed25519' } };
const config = () => ({
  chains: { cas: { kind: 'casper', nodeUrl: fake.nodeUrl, sidecarUrl: fake.sidecarUrl, chainName: 'casper-fake', contractHash: `hash-${CONTRACT}`, paymentMotes: '2500000000', signer: 'casper-key', confirmations: 2, maxWaitMs: 0, pollMs: 50 } },
});

beforeEach(async () => {
  fake = await startFakeCasper({ chainName: 'casper-fake' });
});
afterEach(async () => {
  await fake.stop();
});

describe('chain.anchor on Casper (fake node + sidecar, real casper-js-sdk)', () => {
  it('anchors a batch with one call to the contract, waits for 2 confirmations, and the proofs verify online', async () => {
    const h = serviceHarness(config(), creds);
    const service = h.service();
    await service.init();
    const data = Array.from({ length: 7 }, (_, i) => ({ casper: i }));
    const tokens = await Promise.all(data.map((d, i) => anchorItem(h, `cas:${i}`, d, 'cas')));
    await stepUntil(service, () => h.resumed.size === 7, 20_000, async () => void fake.produceBlock());
    const proofs = (await Promise.all(tokens.map((t, i) => resumeItem(h, `cas:${i}`, t, 'cas')))) as Proof[];
    expect(fake.chain.accepted).toHaveLength(1);
    expect(fake.chain.accepted[0]).toMatchObject({ contractHash: expect.stringContaining(CONTRACT), entryPoint: 'anchor' });
    expect(proofs[0].anchor).toMatchObject({ chain: 'casper', network: 'cas', txHash: '0x' + fake.chain.accepted[0].hash, contract: '0x' + CONTRACT });
    const online = onlineCheckerFor(publishedNetworks(parseChainAnchorConfig(config())));
    for (const [i, p] of proofs.entries()) expect(await verifyProof(p, { data: data[i], hasData: true, online })).toMatchObject({ valid: true });

    // a second batch; a proof of the first that names the second's transaction (processed, same contract,
    // canonical block) is refused: that transaction anchored another root
    const t2 = await anchorItem(h, 'cas:other', { other: true }, 'cas');
    await stepUntil(service, () => h.resumed.has(t2), 20_000, async () => void fake.produceBlock());
    const other = (await resumeItem(h, 'cas:other', t2, 'cas')) as Proof;
    expect(other.anchor.txHash).not.toBe(proofs[0].anchor.txHash);
    const forged = { ...proofs[0], anchor: other.anchor };
    const verdict = await verifyProof(forged, { data: data[0], hasData: true, online });
    expect(verdict.valid).toBe(false);
    expect(verdict.checks).toEqual(expect.arrayContaining([{ name: 'anchor-event', ok: false, detail: `transaction ${other.anchor.txHash} anchored root ${other.root}, the proof's root is ${proofs[0].root}` }]));
    await service.stop();
  }, 30_000);

  it('a daemon killed after signing: the next one sends the saved call again (same hash), never a second one', async () => {
    await fake.node.setDown(true);
    await fake.sidecar.setDown(true);
    const h1 = serviceHarness(config(), creds);
    const s1 = h1.service();
    await s1.init();
    const t = await anchorItem(h1, 'cas-kill:1', { kill: 1 }, 'cas');
    await stepUntil(s1, async () => ((await h1.state.get<ActiveBatch>(batchKey('cas')))?.chain as { signed?: unknown } | undefined)?.signed !== undefined);
    const signedHash = ((await h1.state.get<ActiveBatch>(batchKey('cas')))!.chain as { txHash: string }).txHash;
    expect(fake.chain.accepted).toHaveLength(0); // both endpoints down: nothing reached the network
    h1.abort.abort(); // the first daemon is gone (its stream follower with it)
    await fake.node.setDown(false);
    await fake.sidecar.setDown(false);
    const h2 = serviceHarness(config(), creds, h1.state);
    h2.waiting.add(t);
    const s2 = h2.service();
    await s2.init();
    await stepUntil(s2, () => h2.resumed.has(t), 20_000, async () => void fake.produceBlock());
    expect(fake.chain.accepted.map((a) => a.hash)).toEqual([signedHash]);
    const proof = (await resumeItem(h2, 'cas-kill:1', t, 'cas')) as Proof;
    expect(proof.anchor.txHash).toBe('0x' + signedHash);
    await s2.stop();
  }, 30_000);

  it('sidecar down: anchoring goes through the node, and the fallbacks and latencies reach the plugin metrics', async () => {
    await fake.sidecar.setDown(true);
    const h = serviceHarness(config(), creds);
    const counted: Array<Record<string, unknown>> = [];
    const observed: Array<Record<string, unknown>> = [];
    Object.assign(h.ctx, {
      metrics: {
        counter: () => ({ inc: (labels: Record<string, unknown>) => void counted.push(labels) }),
        histogram: () => ({ observe: (_v: number, labels: Record<string, unknown>) => void observed.push(labels) }),
      },
    });
    const service = h.service();
    await service.init();
    const t = await anchorItem(h, 'cas-fallback:1', { fallback: 1 }, 'cas');
    await stepUntil(service, () => h.resumed.has(t), 20_000, async () => void fake.produceBlock());
    expect(fake.chain.accepted).toHaveLength(1);
    expect(counted).toEqual(expect.arrayContaining([{ network: 'cas', op: 'submit' }]));
    expect(observed).toEqual(expect.arrayContaining([expect.objectContaining({ network: 'cas', adapter: 'node', op: 'submit' })]));
    await service.stop();
  }, 30_000);
});
