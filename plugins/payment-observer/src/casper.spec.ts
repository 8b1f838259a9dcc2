/**
 * payments.trigger.casper against the fake Casper node + sidecar (test/support/fake-casper): native
 * transfers built, signed and sent with casper-js-sdk's own builder and RpcClient, followed over the
 * sidecar's SSE stream by the follower service.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import casper from 'casper-js-sdk';
import { validateParams } from '@anchorflow/plugin-sdk';
import { type FakeCasper, mainPurse, startFakeCasper } from '../../../test/support/fake-casper/index.js';
import { LogReader } from './log-store.js';
import { type EventEntry, type ObserverStatus, statusKey } from './model.js';
import { CasperTriggerParams } from './params.js';
import { replay, stateHash } from './reducer.js';
import { until } from './spec-support/anvil.js';
import { MemoryPluginState, startFollower, startTrigger } from './spec-support/harness.js';
import { casperTrigger } from './triggers.js';

const { NativeTransferBuilder, PrivateKey, KeyAlgorithm, RpcClient, HttpHandler } = casper;

let fake: FakeCasper;
let sender: InstanceType<typeof PrivateKey>;
let alice: InstanceType<typeof PrivateKey>;
let bob: InstanceType<typeof PrivateKey>;
/** dave's main purse is watched (not his account): a transfer to his account lands in it */
let dave: InstanceType<typeof PrivateKey>;
let PURSE: string;
const running: Array<{ stop(): Promise<void> }> = [];

beforeAll(async () => {
  fake = await startFakeCasper({ chainName: 'casper-fake', firstEventId: 1000 });
  [sender, alice, bob, dave] = await Promise.all([0, 1, 2, 3].map(() => PrivateKey.generate(KeyAlgorithm.ED25519)));
  PURSE = mainPurse(account(dave));
});
afterEach(async () => {
  for (const r of running.splice(0).reverse()) await r.stop();
});
afterAll(async () => {
  await fake?.stop();
});

/** a native transfer of `motes` to a public key or an account hash, built, signed and sent with casper-js-sdk */
async function transfer(to: InstanceType<typeof PrivateKey>['publicKey'] | InstanceType<typeof casper.AccountHash>, motes: string, id: number): Promise<string> {
  const b = new NativeTransferBuilder().from(sender.publicKey).amount(motes).id(id).chainName('casper-fake').payment(100_000_000);
  if (to instanceof casper.AccountHash) b.targetAccountHash(to);
  else b.target(to);
  const tx = b.build();
  tx.sign(sender);
  const res = await new RpcClient(new HttpHandler(fake.nodeUrl, 'fetch')).putTransaction(tx);
  return res.transactionHash.toHex();
}

const params = (over: Partial<CasperTriggerParams> = {}): CasperTriggerParams => Object.assign(new CasperTriggerParams(), { network: 'local', to: [alice.publicKey.toHex(), PURSE], confirmations: 1 }, over);
const config = () => ({ casperNetworks: { local: { sidecarUrl: fake.sidecarUrl } } });
function account(k: InstanceType<typeof PrivateKey>): string {
  return k.publicKey.accountHash().toPrefixedString();
}

describe('payments.trigger.casper on the fake Casper sidecar', () => {
  it('starts one execution per transfer to a watched account or purse, after the confirmations, with the block timestamp and the CSPR amount', async () => {
    const state = new MemoryPluginState();
    const streams = fake.sidecar.streamsOpened;
    const trigger = await startTrigger(casperTrigger, params(), state);
    running.push(trigger);
    running.push(await startFollower(state, config()));
    await fake.sidecar.waitForStreams(streams + 1);
    const toAlice = await transfer(alice.publicKey, '2500000000', 1);
    await transfer(bob.publicKey, '1000000000', 2); // not watched
    const toPurse = await transfer(dave.publicKey.accountHash(), '3000000000', 3);
    const block = fake.produceBlock();
    const reader = new LogReader(state, 'wf1.pay');
    await until('both watched transfers in the log', async () => (await reader.entries()).length === 2);
    await new Promise((r) => setTimeout(r, 300)); // a few trigger polls: the block has no block on top yet
    expect(trigger.fired).toEqual([]);
    fake.produceBlock();
    await until('both delivered', () => trigger.fired.length === 2);
    const [a, p] = trigger.fired;
    expect(a!.payload).toMatchObject({
      observer: 'wf1.pay', chainId: 'casper-fake', txHash: toAlice, logIndex: 0, block: block.height, blockHash: block.hash, event: 'Transfer',
      from: account(sender), to: account(alice), amount: '2.5', rawAmount: '2500000000', decimals: 9, token: 'CSPR',
      timestamp: Math.floor(Date.parse(block.timestamp) / 1000),
      args: { target: mainPurse(account(alice)), id: '1' },
    });
    expect(a!.dedupeKey).toBe(`casper-fake:${toAlice}:0`);
    expect(p!.payload).toMatchObject({ txHash: toPurse, to: account(dave), amount: '3.0', args: { target: PURSE } });
    const status = await state.get<ObserverStatus>(statusKey('wf1.pay'));
    expect(status).toMatchObject({ block: block.height + 1, events: 2, rpcUrl: fake.sidecarUrl });
  });

  it('resumes by event id after a cut stream and after a restart: every transfer once, none lost; replay gives the same hash', async () => {
    const state = new MemoryPluginState();
    const reader = new LogReader(state, 'wf1.pay');
    // its own recipient: transfers of other tests are not watched here
    const carol = await PrivateKey.generate(KeyAlgorithm.ED25519);
    const trigger = await startTrigger(casperTrigger, params({ to: carol.publicKey.toHex(), confirmations: 0 }), state);
    running.push(trigger);
    let streams = fake.sidecar.streamsOpened;
    let follower = await startFollower(state, config());
    await fake.sidecar.waitForStreams(streams + 1);
    await transfer(carol.publicKey, '1', 10);
    fake.produceBlock();
    await until('the first transfer', async () => (await reader.entries()).length === 1);

    // cut: a transfer lands while the stream is down; the follower reconnects from the next event id
    streams = fake.sidecar.streamsOpened;
    fake.sidecar.dropSse();
    await transfer(carol.publicKey, '2', 11);
    fake.produceBlock();
    await fake.sidecar.waitForStreams(streams + 1);
    await until('the transfer made during the cut', async () => (await reader.entries()).length === 2);
    const resumedFrom = Number(fake.sidecar.sseRequests.at(-1));
    expect(resumedFrom).toBeGreaterThan(1000);

    // restart: the follower stops, a transfer lands, a new follower resumes after the last committed event
    await follower.stop();
    await transfer(carol.publicKey, '3', 12);
    fake.produceBlock();
    streams = fake.sidecar.streamsOpened;
    follower = await startFollower(state, config());
    running.push(follower);
    await fake.sidecar.waitForStreams(streams + 1);
    await until('the transfer made while stopped', async () => (await reader.entries()).length === 3);
    await until('three deliveries', () => trigger.fired.length === 3);
    const entries = (await reader.entries()) as EventEntry[];
    expect(entries.map((e) => e.args.amount)).toEqual(['1', '2', '3']);
    expect(entries.map((e) => e.pos)).toEqual([0, 1, 2]);
    expect(trigger.attempts).toHaveLength(3);
    expect(stateHash(replay(structuredClone(entries)))).toBe(stateHash(replay(entries)));
    expect(replay(entries).totals.CSPR![account(carol)]).toEqual({ sent: '0', received: '6', count: 3 });

    // a new observer with startEventId picks the same transfers up from the sidecar's buffer
    const other = await startTrigger(casperTrigger, params({ to: account(carol), confirmations: 0, startEventId: 1000 }), state, 'wf2', 'pay');
    running.push(other);
    await until('the backfill from the sidecar buffer', () => other.fired.length === 3);
    expect(other.fired.map((f) => f.dedupeKey)).toEqual(trigger.fired.map((f) => f.dedupeKey));
    expect(fake.sidecar.sseRequests).toContain('1000');
  });

  it('a sidecar answering garbage is reported in the status and retried; the follower carries on when it recovers', async () => {
    const state = new MemoryPluginState();
    const erin = await PrivateKey.generate(KeyAlgorithm.ED25519);
    const trigger = await startTrigger(casperTrigger, params({ to: erin.publicKey.toHex(), confirmations: 0 }), state);
    running.push(trigger);
    fake.sidecar.answer = 'garbage';
    try {
      const follower = await startFollower(state, config());
      running.push(follower);
      const status = await until('the error in the status', async () => (await state.get<ObserverStatus>(statusKey('wf1.pay')))?.lastError);
      expect(status).toMatch(/not text\/event-stream|answer is not JSON/);
      expect(follower.logs.some((l) => l.msg === 'Casper observer stream failed; reconnecting')).toBe(true);
    } finally {
      fake.sidecar.answer = 'ok';
    }
    const streams = fake.sidecar.streamsOpened;
    await fake.sidecar.waitForStreams(streams + 1, 15_000);
    await transfer(erin.publicKey, '5', 20);
    fake.produceBlock();
    await until('delivered after the recovery', () => trigger.fired.length === 1);
    await until('the error cleared', async () => (await state.get<ObserverStatus>(statusKey('wf1.pay')))?.lastError === undefined);
  });

  it('closes the stream while the workflow is deactivated and resumes after the last event when it is activated again', async () => {
    const state = new MemoryPluginState();
    const frank = await PrivateKey.generate(KeyAlgorithm.ED25519);
    let trigger = await startTrigger(casperTrigger, params({ to: frank.publicKey.toHex(), confirmations: 0 }), state);
    let streams = fake.sidecar.streamsOpened;
    running.push(await startFollower(state, config()));
    await fake.sidecar.waitForStreams(streams + 1);
    await transfer(frank.publicKey, '7', 30);
    fake.produceBlock();
    await until('the first delivery', () => trigger.fired.length === 1);
    await trigger.stop(); // deactivated
    await fake.sidecar.waitForNoStreams(10_000);
    await transfer(frank.publicKey, '8', 31);
    fake.produceBlock();
    streams = fake.sidecar.streamsOpened;
    trigger = await startTrigger(casperTrigger, params({ to: frank.publicKey.toHex(), confirmations: 0 }), state);
    running.push(trigger);
    await fake.sidecar.waitForStreams(streams + 1);
    await until('the transfer made while inactive delivered', () => trigger.fired.length === 1);
    expect(trigger.fired[0]!.payload.rawAmount).toBe('8');
    expect((await new LogReader(state, 'wf1.pay').entries()).length).toBe(2);
  });

  it('refuses malformed params at save, naming the field', () => {
    const problems = (p: Record<string, unknown>) => validateParams(CasperTriggerParams, { network: 'local', to: PURSE, ...p }).problems;
    expect(problems({})).toEqual([]);
    expect(problems({ to: 'alice' })).toEqual([{ path: '$.to', message: expect.stringMatching(/^to must be an account hash \("account-hash-<64 hex>"\), a public key/) }]);
    expect(problems({ to: [PURSE, 'account-hash-12'] })).toEqual([{ path: '$.to', message: expect.stringMatching(/^to \[1\] must be an account hash/) }]);
    expect(problems({ filter: { from: PURSE } })).toEqual([{ path: '$.filter.from', message: 'from must be an account hash or a public key (a transfer comes from an account)' }]);
    expect(problems({ startEventId: -1 })).toEqual([{ path: '$.startEventId', message: expect.stringContaining('startEventId') }]);
  });
});

describe('normaliseCasperTarget without casper-js-sdk', () => {
  it('gives the account hash casper-js-sdk gives, for ed25519 and secp256k1 keys', async () => {
    const { normaliseCasperTarget } = await import('./casper-target.js');
    for (let i = 0; i < 20; i++) {
      for (const algorithm of [KeyAlgorithm.ED25519, KeyAlgorithm.SECP256K1]) {
        const key = (await PrivateKey.generate(algorithm)).publicKey;
        const hexKey = key.toHex();
        expect(normaliseCasperTarget(hexKey)).toBe(key.accountHash().toPrefixedString());
        expect(normaliseCasperTarget(` ${hexKey.toUpperCase()} `)).toBe(key.accountHash().toPrefixedString());
      }
    }
    expect(() => normaliseCasperTarget('02' + '05' + 'ab'.repeat(32))).toThrow(/not a valid public key/);
  });
});
