/**
 * The fake Casper node + sidecar speaks what casper-js-sdk reads: every RPC answer goes through the SDK's
 * own RpcClient and parsers, every SSE frame through the SDK's event classes. If the fake drifted from
 * the protocol, these fail before any client test could be fooled by it.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import casper from 'casper-js-sdk';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { startFakeCasper, type FakeCasper } from '../../../../test/support/fake-casper/index.js';

const { RpcClient, HttpHandler, PrivateKey, KeyAlgorithm, ContractCallBuilder, Args, CLValue, TransactionProcessedEvent, BlockAddedEvent } = casper;

let fake: FakeCasper;
beforeEach(async () => { fake = await startFakeCasper({ chainName: 'casper-fake', firstEventId: 41 }); });
afterEach(async () => { await fake.stop(); });

const key = PrivateKey.generate(KeyAlgorithm.ED25519);
function anchorCall(count: number) {
  return new ContractCallBuilder().from(key.publicKey).byHash('cd'.repeat(32)).entryPoint('anchor')
    .runtimeArgs(Args.fromMap({ root: CLValue.newCLByteArray(new Uint8Array(32).fill(1)), batch_id: CLValue.newCLByteArray(new Uint8Array(32).fill(2)), count: CLValue.newCLUInt32(count) }))
    .chainName('casper-fake').payment(2_500_000_000);
}

/** reads SSE frames until `n` have arrived (or the stream ends) */
async function readFrames(url: string, n: number): Promise<{ status: number; body?: string; frames: EventSourceMessage[] }> {
  const ctl = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream' }, signal: ctl.signal });
  if (res.status !== 200) return { status: res.status, body: await res.text(), frames: [] };
  const frames: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (m) => frames.push(m) });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  while (frames.length < n) {
    const { done, value } = await reader.read();
    if (done) break;
    parser.feed(decoder.decode(value, { stream: true }));
  }
  ctl.abort();
  return { status: 200, frames };
}

describe('fake Casper node + sidecar, read by casper-js-sdk', () => {
  it('answers the SDK RpcClient on the node and the sidecar alike', async () => {
    for (const url of [fake.nodeUrl, `${fake.sidecarUrl}/rpc`]) {
      const rpc = new RpcClient(new HttpHandler(url, 'fetch'));
      const status = await rpc.getStatus();
      expect(status.chainSpecName).toBe('casper-fake');
      expect(status.lastAddedBlockInfo.height).toBe(fake.chain.tip.height);
    }
    const rpc = new RpcClient(new HttpHandler(fake.nodeUrl, 'fetch'));

    const tx = anchorCall(5).build();
    tx.sign(key);
    const put = await rpc.putTransaction(tx);
    expect(put.transactionHash.toHex()).toBe(tx.hash.toHex());
    const pending = await rpc.getTransactionByTransactionHash(tx.hash.toHex());
    expect(pending.executionInfo).toBeUndefined();
    expect(pending.transaction.hash.toHex()).toBe(tx.hash.toHex());

    const legacy = anchorCall(6).buildFor1_5();
    legacy.sign(key);
    const putD = await rpc.putDeploy(legacy.getDeploy()!);
    expect(putD.deployHash.toHex()).toBe(legacy.hash.toHex());

    const block = fake.produceBlock();
    const done = await rpc.getTransactionByTransactionHash(tx.hash.toHex());
    expect(done.executionInfo?.blockHash.toHex()).toBe(block.hash);
    expect(done.executionInfo?.blockHeight).toBe(block.height);
    expect(done.executionInfo?.executionResult.errorMessage ?? undefined).toBeUndefined();
    const viaTx = await rpc.getTransactionByDeployHash(legacy.hash.toHex());
    expect(viaTx.executionInfo?.blockHash.toHex()).toBe(block.hash);
    const viaDeploy = await rpc.getDeploy(legacy.hash.toHex());
    expect(viaDeploy.executionInfo?.blockHeight).toBe(block.height);

    const byHeight = await rpc.getBlockByHeight(block.height);
    expect(byHeight.block.hash.toHex()).toBe(block.hash);
    expect(byHeight.block.parentHash.toHex()).toBe(block.parentHash);
    expect(byHeight.block.transactions.map((t) => t.hash.toHex()).sort()).toEqual([tx.hash.toHex(), legacy.hash.toHex()].sort());
    expect((await rpc.getBlockByHash(block.hash)).block.height).toBe(block.height);
    expect((await rpc.getLatestBlock()).block.hash.toHex()).toBe(block.hash);
    expect((await rpc.getBlockTransfersByHeight(block.height)).blockHash).toBeDefined();

    const missing = await rpc.getBlockByHeight(99).then(() => undefined, (e: any) => e.sourceErr);
    expect(missing).toEqual({ code: -32001, message: 'No such block', data: { message: 'no block found for the provided identifier', available_block_range: { low: 0, high: block.height } } });
  });

  it('answers JSON-RPC protocol errors as the node does', async () => {
    const post = async (body: string) => (await fetch(fake.nodeUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).json();
    expect(await post('{nope')).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
    expect(await post(JSON.stringify({ jsonrpc: '2.0', id: 'x', method: 'no_such_method' }))).toEqual({ jsonrpc: '2.0', id: 'x', error: { code: -32601, message: 'Method not found', data: null } });
    expect(await post(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'info_get_transaction', params: { transaction_hash: { Version1: 'ab'.repeat(32) } } })))
      .toEqual({ jsonrpc: '2.0', id: 3, error: { code: -32014, message: 'No such transaction', data: `no transaction for hash transaction-v1-hash(${'ab'.repeat(32)})` } });
  });

  it('streams ApiVersion first (no id), then numbered events the SDK parses, from start_from inclusive; 422/404 on bad requests', async () => {
    const tx = anchorCall(7).build();
    tx.sign(key);
    fake.chain.putTransaction({ Version1: tx.toJSON() });
    const block = fake.produceBlock();
    // 41 TransactionAccepted, 42 BlockAdded, 43 TransactionProcessed

    const all = await readFrames(`${fake.sidecarUrl}/events?start_from=0`, 4);
    expect(all.frames[0]).toMatchObject({ data: '{"ApiVersion":"2.0.0"}', id: undefined });
    expect(all.frames.slice(1).map((f) => f.id)).toEqual(['41', '42', '43']);
    const [acceptedRaw, addedRaw, processedRaw] = all.frames.slice(1).map((f) => f.data);
    const accepted = JSON.parse(acceptedRaw!);
    expect(Object.keys(accepted)).toEqual(['TransactionAccepted']);
    expect(accepted.TransactionAccepted.transaction.Version1.hash).toBe(tx.hash.toHex());
    const blockEv = BlockAddedEvent.fromJSON(addedRaw);
    expect(blockEv.BlockAdded.blockHash).toBe(block.hash);
    const tp = TransactionProcessedEvent.fromJSON(processedRaw);
    if (tp instanceof Error) throw tp;
    expect(tp.transactionProcessedPayload.transactionHash.toHex()).toBe(tx.hash.toHex());
    expect(tp.transactionProcessedPayload.blockHash.toHex()).toBe(block.hash);

    const fromLast = await readFrames(`${fake.sidecarUrl}/events?start_from=43`, 2);
    expect(fromLast.frames.map((f) => f.id)).toEqual([undefined, '43']);

    expect(await readFrames(`${fake.sidecarUrl}/events?start_from=abc`, 1)).toEqual({ status: 422, body: "invalid query: expected single field 'start_from=<EVENT ID>'\n", frames: [] });
    expect((await readFrames(`${fake.sidecarUrl}/events?start_from=1&x=2`, 1)).status).toBe(422);
    expect((await readFrames(`${fake.sidecarUrl}/nothing`, 1)).status).toBe(404);
  });
});
