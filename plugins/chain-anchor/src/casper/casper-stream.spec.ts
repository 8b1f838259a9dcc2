/**
 * The Casper driver learns of execution from the sidecar's SSE stream (TransactionProcessed, BlockAdded),
 * not by polling status: the batcher service runs its real loop against the fake node + sidecar of
 * test/support/fake-casper, and the fake counts every JSON-RPC call that reaches it.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import casper from 'casper-js-sdk';
import { startFakeCasper, type FakeCasper, type SseEvent } from '../../../../test/support/fake-casper/index.js';
import { until } from '../../../../test/support/until.js';
import { anchorItem, resumeItem, serviceHarness } from '../spec-support/harness.js';
import { batchKey, type ActiveBatch } from '../batcher/batch.js';
import { verifyProof } from '../proof/verify.js';
import type { Proof } from '../proof/proof-format.js';
import { checkpointKey, type StreamCheckpoint } from './execution-stream.js';

const CONTRACT = 'feed'.padEnd(64, '0');
let fake: FakeCasper;
const stops: Array<() => Promise<void>> = [];
const pem = casper.PrivateKey.generate(casper.KeyAlgorithm.ED25519).toPem();
const creds = { 'casper-key': { privateKeyPem: pem, algorithm: 'ed25519' } };
const config = () => ({
  chains: { cas: { kind: 'casper', nodeUrl: fake.nodeUrl, sidecarUrl: fake.sidecarUrl, chainName: 'casper-fake', contractHash: `hash-${CONTRACT}`, paymentMotes: '2500000000', signer: 'casper-key', confirmations: 2, maxWaitMs: 0, pollMs: 50 } },
});
const STATUS_CALLS = ['info_get_transaction', 'info_get_deploy'];
const statusCalls = () => [...fake.sidecar.rpcCalls, ...fake.node.rpcCalls].filter((m) => STATUS_CALLS.includes(m));
const isAccepted = (ev: SseEvent) => typeof ev.data === 'object' && ev.data !== null && 'TransactionAccepted' in ev.data;

/** a running batcher service (the real loop with its wake-ups), stopped after the test */
async function running(h: ReturnType<typeof serviceHarness>) {
  const service = h.service();
  await service.init();
  service.start();
  stops.push(async () => {
    h.abort.abort();
    await service.stop();
  });
  return service;
}

beforeEach(async () => {
  fake = await startFakeCasper({ chainName: 'casper-fake', firstEventId: 1000 });
});
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
  await fake.stop();
});

describe('Casper execution through the sidecar SSE stream', () => {
  it('the stream delivers the processed transaction and the confirmations: no status polling, and the proofs verify', async () => {
    const h = serviceHarness(config(), creds);
    // the network includes the anchor call in the next block, then adds one more (2 confirmations)
    fake.chain.onEvent((ev) => {
      if (isAccepted(ev)) setImmediate(() => { fake.produceBlock(); fake.produceBlock(); });
    });
    await running(h);
    const data = [{ sse: 1 }, { sse: 2 }, { sse: 3 }];
    const tokens = await Promise.all(data.map((d, i) => anchorItem(h, `sse:${i}`, d, 'cas')));
    await until('all three proofs handed out', async () => (h.resumed.size === 3 ? true : undefined), 20_000);
    expect(fake.chain.accepted).toHaveLength(1);
    expect(statusCalls()).toEqual([]);
    // what went over JSON-RPC for the anchor: the submission and one canonical-block check, nothing polled
    // (info_get_status is the readiness probe of each endpoint, every healthCheckMs)
    expect([...fake.sidecar.rpcCalls, ...fake.node.rpcCalls].filter((m) => m !== 'info_get_status')).toEqual(['account_put_transaction', 'chain_get_block']);
    const proofs = (await Promise.all(tokens.map((t, i) => resumeItem(h, `sse:${i}`, t, 'cas')))) as Proof[];
    const block = fake.chain.blocks.find((b) => b.transactions.some((t) => t.hash === fake.chain.accepted[0]!.hash))!;
    expect(proofs[1]!.anchor).toMatchObject({ chain: 'casper', txHash: '0x' + fake.chain.accepted[0]!.hash, block: block.height, blockHash: '0x' + block.hash, timestamp: block.timestamp });
    for (const [i, p] of proofs.entries()) expect(await verifyProof(p, { data: data[i], hasData: true })).toMatchObject({ valid: true });
    expect(h.logs).toEqual(expect.arrayContaining([expect.objectContaining({ msg: 'anchor transaction processed', fields: expect.objectContaining({ via: 'sse' }) })]));
  }, 30_000);

  it('a stream cut just before the block: it resumes from the id after the last one seen and gets the processed event it missed', async () => {
    const h = serviceHarness(config(), creds);
    let acceptedId: number | undefined;
    fake.chain.onEvent((ev) => {
      if (!isAccepted(ev)) return;
      acceptedId = ev.id;
      // cut before this very event reaches the client, and produce the blocks while it is disconnected
      fake.sidecar.dropSse();
      fake.produceBlock();
      fake.produceBlock();
    });
    await running(h);
    // the service follows the stream before there is anything to anchor, and has seen an event
    await fake.sidecar.waitForStreams(1);
    const seen = fake.produceBlock();
    await until('the block seen', async () => ((await h.state.get<StreamCheckpoint>(checkpointKey('cas')))?.lastEventId === 1000 ? seen : undefined));
    const t = await anchorItem(h, 'sse-cut:1', { cut: 1 }, 'cas');
    await until('the proof handed out', async () => (h.resumed.has(t) ? true : undefined), 20_000);
    expect(acceptedId).toBeDefined();
    // first stream: only new events; after the cut: from the event it had not seen (start_from is inclusive)
    expect(fake.sidecar.sseRequests.slice(0, 2)).toEqual([null, String(acceptedId)]);
    expect(statusCalls()).toEqual([]);
    const proof = (await resumeItem(h, 'sse-cut:1', t, 'cas')) as Proof;
    expect(proof.anchor.txHash).toBe('0x' + fake.chain.accepted[0]!.hash);
  }, 30_000);

  it('a restarted service resumes the stream from the stored event id and learns of a transaction processed while it was down', async () => {
    const h1 = serviceHarness(config(), creds);
    const s1 = await running(h1);
    const t = await anchorItem(h1, 'sse-restart:1', { restart: 1 }, 'cas');
    await until('the anchor call accepted', async () => (fake.chain.accepted.length === 1 ? true : undefined), 20_000);
    await until('the stream position stored', async () => {
      const cp = await h1.state.get<StreamCheckpoint>(checkpointKey('cas'));
      return cp && cp.lastEventId >= fake.chain.events.at(-1)!.id! ? cp : undefined;
    }, 20_000);
    h1.abort.abort();
    await s1.stop();
    await fake.sidecar.waitForNoStreams();
    // processed and confirmed while no service runs
    fake.produceBlock();
    fake.produceBlock();
    const stored = (await h1.state.get<StreamCheckpoint>(checkpointKey('cas')))!;
    const requestsBefore = fake.sidecar.sseRequests.length;

    const h2 = serviceHarness(config(), creds, h1.state);
    h2.waiting.add(t);
    await running(h2);
    await until('the proof handed out after the restart', async () => (h2.resumed.has(t) ? true : undefined), 20_000);
    expect(fake.sidecar.sseRequests[requestsBefore]).toBe(String(stored.lastEventId + 1));
    expect(statusCalls()).toEqual([]);
    expect(fake.chain.accepted).toHaveLength(1);
    expect(await h2.state.get<ActiveBatch>(batchKey('cas'))).toBeUndefined();
    const proof = (await resumeItem(h2, 'sse-restart:1', t, 'cas')) as Proof;
    expect(proof.anchor.block).toBe(fake.chain.blocks.find((b) => b.transactions.length === 1)!.height);
  }, 30_000);

  it('sseUrl: the stream is read where it is configured (the sidecar serves SSE on its own port), apart from its JSON-RPC', async () => {
    const c = config();
    // the sidecar's JSON-RPC address answers nothing here; the node serves the calls and the stream comes from sseUrl
    const h = serviceHarness({ chains: { cas: { ...c.chains.cas, sidecarUrl: 'http://127.0.0.1:9', sseUrl: `${fake.sidecarUrl}/events` } } }, creds);
    fake.chain.onEvent((ev) => {
      if (isAccepted(ev)) setImmediate(() => { fake.produceBlock(); fake.produceBlock(); });
    });
    await running(h);
    const t = await anchorItem(h, 'sse-url:1', { url: 1 }, 'cas');
    await until('the proof handed out', async () => (h.resumed.has(t) ? true : undefined), 20_000);
    expect(fake.sidecar.sseRequests.length).toBeGreaterThanOrEqual(1);
    expect(fake.sidecar.rpcCalls).toEqual([]);
    expect(statusCalls()).toEqual([]);
  }, 30_000);

  it('no stream (sidecar down): the driver falls back to polling status through the node', async () => {
    await fake.sidecar.setDown(true);
    const h = serviceHarness(config(), creds);
    fake.chain.onEvent((ev) => {
      if (isAccepted(ev)) setImmediate(() => { fake.produceBlock(); fake.produceBlock(); });
    });
    await running(h);
    const t = await anchorItem(h, 'sse-down:1', { down: 1 }, 'cas');
    await until('the proof handed out', async () => (h.resumed.has(t) ? true : undefined), 20_000);
    expect(fake.node.rpcCalls).toContain('info_get_transaction');
    expect(h.logs).toEqual(expect.arrayContaining([expect.objectContaining({ msg: 'anchor transaction processed', fields: expect.objectContaining({ via: 'status' }) })]));
  }, 30_000);
});
