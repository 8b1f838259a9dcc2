/**
 * The Casper client against the fake Casper node + sidecar (test/support/fake-casper): real HTTP on
 * loopback, real casper-js-sdk on both sides (the fake verifies hashes and signatures with the SDK's parsers).
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import casper from 'casper-js-sdk';
import { NodeError, TransientNodeError } from '@anchorflow/plugin-sdk';
import { startFakeCasper, type FakeCasper } from '../../../../test/support/fake-casper/index.js';
import { CasperClient, type CasperClientOptions } from './casper-client.js';
import type { ProcessedEvent } from './sse-follower.js';

const { PrivateKey, KeyAlgorithm } = casper;

const CONTRACT = 'c0ffee'.padEnd(64, '0');
const ROOT = 'ab'.repeat(32);
const BATCH = '0x' + '12'.repeat(32);
const CHAIN = 'casper-fake';

interface Recorded {
  fallbacks: string[];
  latencies: Array<{ adapter: 'sidecar' | 'node'; op: string; ms: number }>;
}

let fake: FakeCasper;
let recorded: Recorded;
const followers: AbortController[] = [];

beforeEach(async () => {
  fake = await startFakeCasper({ chainName: CHAIN, firstEventId: 1000 });
  recorded = { fallbacks: [], latencies: [] };
});

afterEach(async () => {
  for (const f of followers.splice(0)) f.abort();
  await fake.stop();
});

function client(over: Partial<CasperClientOptions> = {}, algorithm: 'ed25519' | 'secp256k1' = 'ed25519'): CasperClient {
  const key = PrivateKey.generate(algorithm === 'ed25519' ? KeyAlgorithm.ED25519 : KeyAlgorithm.SECP256K1);
  return new CasperClient({
    sidecarUrl: fake.sidecarUrl,
    nodeUrl: fake.nodeUrl,
    chainName: CHAIN,
    contractHash: `hash-${CONTRACT}`,
    paymentMotes: '2500000000',
    signer: { privateKeyPem: key.toPem(), algorithm },
    metrics: {
      fallback: (op) => recorded.fallbacks.push(op),
      latency: (adapter, op, ms) => recorded.latencies.push({ adapter, op, ms }),
    },
    ...over,
  });
}

/** collects follow() events; `next(pred)` resolves on the first matching one, already seen or still to come */
function processedCollector() {
  const seen: ProcessedEvent[] = [];
  const waiters: Array<{ pred: (e: ProcessedEvent) => boolean; resolve: (e: ProcessedEvent) => void }> = [];
  return {
    seen,
    onProcessed(ev: ProcessedEvent) {
      seen.push(ev);
      for (const w of [...waiters]) if (w.pred(ev)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(ev); }
    },
    next(pred: (e: ProcessedEvent) => boolean, timeoutMs = 5000): Promise<ProcessedEvent> {
      const hit = seen.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no matching TransactionProcessed within ${timeoutMs} ms; seen ${JSON.stringify(seen)}`)), timeoutMs);
        waiters.push({ pred, resolve: (e) => { clearTimeout(t); resolve(e); } });
      });
    },
  };
}

function startFollowing(c: CasperClient, lastEventId?: number) {
  const col = processedCollector();
  const ctl = new AbortController();
  followers.push(ctl);
  const errors: Error[] = [];
  const done = c.follow({ lastEventId, onProcessed: (e) => col.onProcessed(e), signal: ctl.signal, onError: (e) => errors.push(e) });
  return { ...col, ctl, done, errors };
}

async function rejection(p: Promise<unknown>): Promise<NodeError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(NodeError);
  return err as NodeError;
}

describe('CasperClient → fake Casper node + sidecar', () => {
  it('submits an anchor call that the node verifies, then reports it processed with its block', async () => {
    const c = client({}, 'secp256k1');
    const { txHash } = await c.submitAnchor({ root: ROOT, batchId: BATCH, count: 3 });

    expect(txHash).toMatch(/^[0-9a-f]{64}$/);
    expect(fake.chain.accepted).toHaveLength(1);
    const call = fake.chain.accepted[0]!;
    expect(call).toMatchObject({ kind: 'transaction', hash: txHash, contractHash: CONTRACT, entryPoint: 'anchor' });
    expect(call.args.root).toEqual({ cl_type: { ByteArray: 32 }, bytes: ROOT });
    expect(call.args.batch_id).toEqual({ cl_type: { ByteArray: 32 }, bytes: '12'.repeat(32) });
    expect(call.args.count).toEqual({ cl_type: 'U32', bytes: '03000000' });

    expect(await c.status(txHash)).toEqual({ state: 'pending' });
    const block = fake.produceBlock();
    expect(await c.status(txHash)).toEqual({ state: 'processed', blockHash: block.hash, blockHeight: block.height, timestamp: block.timestamp });

    expect(await c.latestBlockHeight()).toBe(block.height);
    // what the transaction asked for, as a verifier reads it back
    expect(await c.anchorCall(txHash)).toEqual({ contractHash: CONTRACT, entryPoint: 'anchor', args: { root: ROOT, batch_id: '12'.repeat(32), count: '03000000' } });
    const byHash = await c.block(block.hash);
    expect(byHash).toEqual({ hash: block.hash, height: block.height, parentHash: block.parentHash, timestamp: block.timestamp });
    expect(await c.block(block.height)).toEqual(byHash);

    // everything was answered by the sidecar
    expect(fake.node.rpcCalls).toEqual([]);
    expect(recorded.fallbacks).toEqual([]);
    expect(new Set(recorded.latencies.map((l) => l.adapter))).toEqual(new Set(['sidecar']));
    expect(recorded.latencies.map((l) => l.op)).toEqual(expect.arrayContaining(['submit', 'status', 'block']));

    // a block the sidecar does not have is asked of the node too (it may be ahead); neither has it
    expect(await c.block(block.height + 5)).toBeUndefined();
    expect(await c.block('00'.repeat(32))).toBeUndefined();
    expect(fake.node.rpcCalls).toEqual(['chain_get_block', 'chain_get_block']);
  });

  it('reports the execution error of a transaction the node processed but the contract refused', async () => {
    const c = client();
    const { txHash } = await c.submitAnchor({ root: ROOT, batchId: BATCH, count: 1 });
    fake.chain.failExecution(txHash, 'User error: 1 (root already anchored)');
    fake.produceBlock();
    expect(await c.status(txHash)).toMatchObject({ state: 'processed', error: 'User error: 1 (root already anchored)' });
  });

  it('falls back to the node when the sidecar is down, and counts the fallback', async () => {
    const c = client();
    await fake.sidecar.setDown(true);

    const { txHash } = await c.submitAnchor({ root: ROOT, batchId: BATCH, count: 2 });
    fake.produceBlock();
    expect(await c.status(txHash)).toMatchObject({ state: 'processed', blockHeight: 1 });

    expect(fake.node.rpcCalls).toEqual(['account_put_transaction', 'info_get_transaction', 'chain_get_block']);
    expect(recorded.fallbacks).toEqual(['submit', 'status', 'block']);
    expect(recorded.latencies.filter((l) => l.adapter === 'node').map((l) => l.op)).toEqual(['submit', 'status', 'block']);

    // back up: the sidecar answers again
    await fake.sidecar.setDown(false);
    await c.status(txHash);
    expect(fake.node.rpcCalls).toHaveLength(3);
  });

  it('gives up on a slow sidecar after its timeout and sends the same signed transaction to the node (one transaction, not two)', async () => {
    const c = client({ sidecarTimeoutMs: 300 });
    fake.sidecar.delayMs = 1500; // the sidecar does the work, then answers late

    const started = performance.now();
    const { txHash } = await c.submitAnchor({ root: ROOT, batchId: BATCH, count: 7 });
    const took = performance.now() - started;

    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(1400);
    expect(fake.sidecar.rpcCalls).toEqual(['account_put_transaction']);
    expect(fake.node.rpcCalls).toEqual(['account_put_transaction']);
    expect(fake.chain.accepted.map((a) => a.hash)).toEqual([txHash]);
    expect(recorded.fallbacks).toEqual(['submit']);
    const sidecarSubmit = recorded.latencies.find((l) => l.adapter === 'sidecar' && l.op === 'submit')!;
    expect(sidecarSubmit.ms).toBeGreaterThanOrEqual(290);
  });

  it('names both adapters and classes the error retryable when neither answers usefully', async () => {
    const c = client();
    fake.sidecar.answer = 'garbage';
    fake.node.answer = 'http-503';
    const err = await rejection(c.submitAnchor({ root: ROOT, batchId: BATCH, count: 1 }));
    expect(err).toBeInstanceOf(TransientNodeError);
    expect(err.retryable).toBe(true);
    expect(err.message).toContain(`Casper sidecar (${fake.sidecarUrl}/rpc)`);
    expect(err.message).toContain('not JSON');
    expect(err.message).toContain(`Casper node (${fake.nodeUrl})`);
    expect(err.message).toContain('HTTP 503');

    const nodeOnly = client({ sidecarUrl: undefined });
    await fake.node.setDown(true);
    const down = await rejection(nodeOnly.latestBlockHeight());
    expect(down).toBeInstanceOf(TransientNodeError);
    expect(down.code).toBe('CASPER_UNREACHABLE');
    expect(down.message).toContain(fake.nodeUrl);
    expect(down.message).toContain('ECONNREFUSED');
  });

  it('the node refuses a tampered transaction with its real JSON-RPC error; the client refuses to send one', async () => {
    const c = client();
    const signed = c.signAnchor({ root: ROOT, batchId: BATCH, count: 3 });
    const argsTampered = structuredClone(signed.json) as any;
    argsTampered.payload.fields.args.Named.find((a: [string]) => a[0] === 'count')[1].bytes = '04000000';
    const sigTampered = structuredClone(signed.json) as any;
    const sig: string = sigTampered.approvals[0].signature;
    sigTampered.approvals[0].signature = sig.slice(0, -2) + (sig.endsWith('00') ? '01' : '00');

    // on the wire, as any client would send it
    const put = async (tx: unknown) => (await fetch(fake.nodeUrl, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: '7', method: 'account_put_transaction', params: { transaction: { Version1: tx } } }),
    })).json();
    expect(await put(argsTampered)).toEqual({ jsonrpc: '2.0', id: '7', error: { code: -32016, message: 'Invalid transaction', data: 'the transaction was invalid: The transaction sent to the network had an invalid hash' } });
    expect(await put(sigTampered)).toEqual({ jsonrpc: '2.0', id: '7', error: { code: -32016, message: 'Invalid transaction', data: 'the transaction was invalid: The transaction sent to the network had an invalid approval' } });

    // through the SDK's own RpcClient: a signature from another transaction of the same key
    const other = c.signAnchor({ root: ROOT, batchId: BATCH, count: 4 });
    const swapped = structuredClone(signed.json) as any;
    swapped.approvals = (other.json as any).approvals;
    const sdkErr = await new casper.RpcClient(new casper.HttpHandler(fake.nodeUrl, 'fetch'))
      .putTransaction(casper.Transaction.fromJSON({ ...(signed.json as object), approvals: [] }))
      .then(() => undefined, (e: unknown) => e);
    expect(sdkErr).toMatchObject({ sourceErr: { code: -32016, data: 'the transaction was invalid: The transaction sent to the network had no approvals' } });
    expect(await put(swapped)).toMatchObject({ error: { code: -32016, data: 'the transaction was invalid: The transaction sent to the network had an invalid approval' } });
    expect(fake.chain.accepted).toEqual([]);

    // the client checks a stored transaction before sending it: nothing leaves
    const err = await rejection(c.submitSigned({ ...signed, json: argsTampered }));
    expect(err.code).toBe('CASPER_TX_CORRUPT');
    expect(err.retryable).toBe(false);
    expect(fake.sidecar.rpcCalls).toEqual([]);

    // the untouched one goes through
    expect(await c.submitSigned(signed)).toEqual({ txHash: signed.txHash });
    expect(fake.chain.accepted.map((a) => a.hash)).toEqual([signed.txHash]);
  });

  it('a transaction the node rejects (wrong chain name) is a non-retryable error, not asked twice', async () => {
    const c = client({ chainName: 'casper-test' });
    const err = await rejection(c.submitAnchor({ root: ROOT, batchId: BATCH, count: 3 }));
    expect(err.retryable).toBe(false);
    expect(err.code).toBe('CASPER_TX_REJECTED');
    expect(err.details).toMatchObject({ rpcCode: -32016, rpcMessage: 'Invalid transaction', rpcData: 'the transaction was invalid: The transaction sent to the network had an invalid chain name' });
    expect(err.message).toContain('-32016');
    expect(fake.sidecar.rpcCalls).toEqual(['account_put_transaction']);
    expect(fake.node.rpcCalls).toEqual([]);
    expect(recorded.fallbacks).toEqual([]);
  });

  it('sends a legacy Deploy (StoredContractByHash) when configured, follows it to its block, and the node rejects a tampered one', async () => {
    const c = client({ legacyDeploys: true });
    const f = startFollowing(c);
    await fake.sidecar.waitForStreams(1);
    const { txHash } = await c.submitAnchor({ root: ROOT, batchId: BATCH, count: 9 });
    const call = fake.chain.accepted[0]!;
    expect(call).toMatchObject({ kind: 'deploy', hash: txHash, contractHash: CONTRACT, entryPoint: 'anchor' });
    expect(call.args.count).toEqual({ cl_type: 'U32', bytes: '09000000' });
    expect(call.json.payment.ModuleBytes.module_bytes).toBe('');
    expect(fake.sidecar.rpcCalls).toEqual(['account_put_deploy']);

    expect(await c.status(txHash)).toEqual({ state: 'pending' });
    const block = fake.produceBlock();
    expect(await c.status(txHash)).toEqual({ state: 'processed', blockHash: block.hash, blockHeight: block.height, timestamp: block.timestamp });
    expect(fake.sidecar.rpcCalls).toContain('info_get_deploy');
    expect(await f.next((e) => e.txHash === txHash)).toMatchObject({ blockHash: block.hash });
    expect(await c.anchorCall(txHash)).toEqual({ contractHash: CONTRACT, entryPoint: 'anchor', args: { root: ROOT, batch_id: '12'.repeat(32), count: '09000000' } });

    const signed = c.signAnchor({ root: ROOT, batchId: BATCH, count: 1 });
    const tampered = structuredClone(signed.json) as any;
    tampered.session.StoredContractByHash.args[2][1].bytes = '02000000';
    const answer: any = await (await fetch(fake.nodeUrl, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 'd', method: 'account_put_deploy', params: { deploy: tampered } }),
    })).json();
    expect(answer.error).toMatchObject({ code: -32008, message: 'Invalid Deploy' });
    expect(answer.error.data).toMatch(/^the deploy was invalid: The deploy had an invalid (deploy|body) hash$/);
    expect((await rejection(c.submitSigned({ ...signed, json: tampered }))).code).toBe('CASPER_TX_CORRUPT');
    expect(fake.chain.accepted).toHaveLength(1);
  });

  it('a node that does not answer in time is a retryable CASPER_TIMEOUT naming the call and the limit', async () => {
    // 600 ms: long enough for the request to reach the node on a loaded machine (it is then taken), far below the delay
    const c = client({ sidecarUrl: undefined, nodeTimeoutMs: 600 });
    fake.node.delayMs = 3000;
    const err = await rejection(c.submitAnchor({ root: ROOT, batchId: BATCH, count: 1 }));
    expect(err).toBeInstanceOf(TransientNodeError);
    expect(err.code).toBe('CASPER_TIMEOUT');
    expect(err.message).toMatch(new RegExp(`^Casper node \\(${fake.nodeUrl}\\): no answer to account_put_transaction within 600 ms \\(transaction [0-9a-f]{64}\\)$`));
    // the node did take it: the hash in the error lets the caller find out instead of signing a second one
    const { txHash } = err.details as { txHash: string };
    fake.node.delayMs = 0;
    expect(await c.status(txHash)).toEqual({ state: 'pending' });
    expect(recorded.fallbacks).toEqual([]);
  });

  it('an unknown transaction is a retryable CASPER_TX_NOT_FOUND after asking both adapters', async () => {
    const c = client();
    const err = await rejection(c.status('ef'.repeat(32)));
    expect(err).toBeInstanceOf(TransientNodeError);
    expect(err.code).toBe('CASPER_TX_NOT_FOUND');
    expect(err.message).toContain('-32014');
    expect(fake.node.rpcCalls).toEqual(['info_get_transaction']);
  });

  it('rejects bad options at construction, naming every bad key', () => {
    const attempt = () => client({ nodeUrl: 'not a url', contractHash: 'xyz', paymentMotes: '-5', signer: { privateKeyPem: 'nope', algorithm: 'ed25519' } });
    expect(attempt).toThrow(NodeError);
    let msg = '';
    try { attempt(); } catch (e) { msg = (e as Error).message; }
    for (const key of ['nodeUrl', 'contractHash', 'paymentMotes', 'signer.privateKeyPem']) expect(msg).toContain(key);
  });
});

describe('CasperClient.follow → the sidecar SSE stream', () => {
  it('reports TransactionProcessed with the event id, and resumes after a cut without missing the event emitted meanwhile', async () => {
    const c = client();
    const f = startFollowing(c);
    await fake.sidecar.waitForStreams(1);

    const a = await c.submitAnchor({ root: ROOT, batchId: BATCH, count: 1 });
    const blockA = fake.produceBlock();
    const evA = await f.next((e) => e.txHash === a.txHash);
    expect(evA).toMatchObject({ txHash: a.txHash, blockHash: blockA.hash });
    expect(evA.eventId).toBe(fake.chain.events.at(-1)!.id);

    const b = await c.submitAnchor({ root: ROOT, batchId: BATCH, count: 2 });
    const lastBeforeCut = fake.chain.events.at(-1)!.id!; // TransactionAccepted of b
    fake.sidecar.dropSse();
    const blockB = fake.produceBlock(); // emitted while no stream is open: only a resume can deliver it

    const evB = await f.next((e) => e.txHash === b.txHash);
    expect(evB.blockHash).toBe(blockB.hash);
    expect(fake.sidecar.sseRequests[0]).toBeNull();
    expect(Number(fake.sidecar.sseRequests[1])).toBeLessThanOrEqual(lastBeforeCut + 1);
    expect(Number(fake.sidecar.sseRequests[1])).toBeGreaterThan(evA.eventId);
    expect(f.seen.map((e) => e.txHash)).toEqual([a.txHash, b.txHash]); // each exactly once
    expect(f.errors.map((e) => (e as NodeError).code)).toContain('CASPER_SSE_CUT');
  });

  it('resumes from a stored lastEventId: replays the processed events after it, not before', async () => {
    const c = client();
    const a = await c.submitAnchor({ root: ROOT, batchId: BATCH, count: 1 });
    fake.produceBlock();
    const afterA = fake.chain.events.at(-1)!.id!;
    const b = await c.submitAnchor({ root: ROOT, batchId: BATCH, count: 2 });
    fake.produceBlock();

    const f = startFollowing(c, afterA);
    const evB = await f.next((e) => e.txHash === b.txHash);
    expect(evB.eventId).toBe(fake.chain.events.at(-1)!.id);
    expect(fake.sidecar.sseRequests).toEqual([String(afterA + 1)]);
    expect(f.seen.map((e) => e.txHash)).not.toContain(a.txHash);
  });

  it('keeps following across a sidecar outage and picks up what was processed while it was down', async () => {
    const c = client();
    const f = startFollowing(c);
    await fake.sidecar.waitForStreams(1);
    const a = await c.submitAnchor({ root: ROOT, batchId: BATCH, count: 1 });
    await fake.sidecar.setDown(true);
    const block = fake.produceBlock();
    await fake.sidecar.setDown(false);
    const ev = await f.next((e) => e.txHash === a.txHash);
    expect(ev.blockHash).toBe(block.hash);
    expect(f.seen).toHaveLength(1);
  });

  it('keep-alives hold a quiet stream open; a stream gone silent (half-open) is reconnected and resumed', async () => {
    await fake.stop();
    fake = await startFakeCasper({ chainName: CHAIN, keepAliveMs: 40 });
    const c = client({ sseIdleTimeoutMs: 300 });
    const f = startFollowing(c);
    await fake.sidecar.waitForStreams(1);
    await fake.sidecar.waitForKeepAlives(12); // ~480 ms without a single event: longer than the idle limit
    expect(fake.sidecar.sseRequests).toHaveLength(1);
    expect(f.errors).toEqual([]);

    const a = await c.submitAnchor({ root: ROOT, batchId: BATCH, count: 1 });
    fake.sidecar.freezeSse();
    const block = fake.produceBlock();
    const ev = await f.next((e) => e.txHash === a.txHash);
    expect(ev.blockHash).toBe(block.hash);
    expect(fake.sidecar.sseRequests).toHaveLength(2);
    expect(f.errors.map((e) => (e as NodeError).code)).toContain('CASPER_SSE_STALLED');
  });

  it('stops when the signal aborts, and fails for a query the sidecar refuses with 422', async () => {
    const c = client();
    const f = startFollowing(c);
    await fake.sidecar.waitForStreams(1);
    f.ctl.abort();
    await f.done;
    await fake.sidecar.waitForNoStreams();

    const bad = client({ sseUrl: `${fake.sidecarUrl}/events?filter=main` });
    const ctl = new AbortController();
    followers.push(ctl);
    const err = await rejection(bad.follow({ lastEventId: 5, onProcessed: () => undefined, signal: ctl.signal }));
    expect(err.retryable).toBe(false);
    expect(err.code).toBe('CASPER_SSE_REFUSED');
    expect(err.message).toContain('422');
    expect(err.message).toContain("expected single field 'start_from=<EVENT ID>'");
  });
});
