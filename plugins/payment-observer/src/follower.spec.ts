import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Contract } from 'ethers';
import { evmTrigger, reorgTrigger } from './triggers.js';
import { LogReader } from './log-store.js';
import { type ObserverStatus, statusKey } from './model.js';
import { replay, stateHash } from './reducer.js';
import { type Anvil, deploy, KEYS, send, startAnvil, until } from './spec-support/anvil.js';
import { MemoryPluginState, startFollower, startTrigger } from './spec-support/harness.js';
import { EvmTriggerParams } from './params.js';
import { Wallet } from 'ethers';

const ALICE = new Wallet(KEYS[1]!).address;
const BOB = '0x000000000000000000000000000000000000b0b0';

let anvil: Anvil;
let token: Contract;
let me: string;

beforeAll(async () => {
  anvil = await startAnvil();
  me = await anvil.signer.getAddress();
  token = await deploy(anvil, 'TestToken', ['Test USD', 'TUSD', 6]);
  await send(token.mint!(me, 1_000_000_000n));
}, 30_000);
afterAll(async () => {
  await anvil?.stop();
});

const params = (over: Partial<EvmTriggerParams> = {}): EvmTriggerParams => Object.assign(new EvmTriggerParams(), { network: 'local', contract: token.target as string, event: 'erc20.Transfer', confirmations: 3, startBlock: 0 }, over);

describe('payments.trigger.evm on a real anvil', () => {
  it('starts exactly one execution per transfer, only after the confirmations, with decimals applied and the block timestamp', async () => {
    const state = new MemoryPluginState();
    const start = await anvil.head();
    const trigger = await startTrigger(evmTrigger, params({ startBlock: start + 1, filter: { to: ALICE } }), state);
    const follower = await startFollower(state, { networks: { local: { rpcUrls: [anvil.url] } } });
    try {
      const b1 = await send(token.transfer!(ALICE, 1_500_000n));
      await send(token.transfer!(BOB, 7n)); // filtered out (to Bob)
      const b3 = await send(token.transfer!(ALICE, 25n));
      // ingested; the first has 2 blocks on top, not 3: nothing fires
      await until('ingestion of three transfers', async () => (await new LogReader(state, 'wf1.pay').entries()).length === 3);
      expect(b3 - b1).toBe(2);
      await until('the follower at the head', async () => (await state.get<ObserverStatus>(statusKey('wf1.pay')))?.block === b3);
      await new Promise((r) => setTimeout(r, 300)); // a few trigger polls
      expect(trigger.fired).toEqual([]);
      await anvil.mine(1); // b1 has 3 blocks on top now, b3 one
      const first = await until('the first confirmed transfer', () => trigger.fired.length >= 1 && trigger.fired);
      await new Promise((r) => setTimeout(r, 300));
      expect(first).toHaveLength(1);
      const p = first[0]!.payload;
      const block = await anvil.provider.getBlock(b1);
      expect(p).toMatchObject({ chainId: 31337, block: b1, blockHash: block!.hash, from: me, to: ALICE, amount: '1.5', token: token.target, timestamp: block!.timestamp, event: 'Transfer' });
      expect(first[0]!.dedupeKey).toBe(`31337:${p.txHash}:${p.logIndex}`);
      await anvil.mine(2);
      await until('the second transfer to Alice', () => trigger.fired.length >= 2);
      await anvil.mine(3);
      await until('the follower at the head', async () => (await state.get<ObserverStatus>(statusKey('wf1.pay')))?.block === (await anvil.head()));
      await new Promise((r) => setTimeout(r, 300)); // a few more trigger polls: nothing else may fire
      expect(trigger.fired.map((f) => f.payload.amount)).toEqual(['1.5', '0.000025']);
      expect(trigger.attempts).toHaveLength(2);
    } finally {
      await follower.stop();
      await trigger.stop();
    }
  });

  it('a reorg shallower than the confirmations drops the payment before it ever triggers; a deeper one appends an alert and fires payments.trigger.reorg', async () => {
    const state = new MemoryPluginState();
    const start = await anvil.head();
    const trigger = await startTrigger(evmTrigger, params({ startBlock: start + 1, confirmations: 3 }), state);
    const reorgs = await startTrigger(reorgTrigger, {}, state, 'wf2', 'alarm');
    const follower = await startFollower(state, { networks: { local: { rpcUrls: [anvil.url] } } });
    const reader = new LogReader(state, 'wf1.pay');
    try {
      await anvil.mine(6); // the reorgs below must not reach the token's deployment
      const dropped = await send(token.transfer!(BOB, 11n));
      await until('the transfer ingested', async () => (await reader.entries()).length === 1);
      await anvil.mine(1); // 1 block on top: not confirmed
      await until('the follower at the head', async () => (await state.get<ObserverStatus>(statusKey('wf1.pay')))?.block === (await anvil.head()));
      await anvil.rpc('anvil_reorg', [2, []]); // replaces the transfer's block and the one on top
      anvil.signer.reset(); // the transfer vanished: its nonce is free again
      await until('the retraction', async () => (await reader.entries()).some((e) => e.kind === 'retract'));
      await anvil.mine(5);
      await until('the follower at the head', async () => (await state.get<ObserverStatus>(statusKey('wf1.pay')))?.block === (await anvil.head()));
      await new Promise((r) => setTimeout(r, 300));
      expect(trigger.fired).toEqual([]);
      const entries = await reader.entries();
      expect(entries.map((e) => e.kind)).toEqual(['event', 'retract']);
      expect(entries[0]).toMatchObject({ block: dropped });

      // now a confirmed (and delivered) payment vanishes in a 6-block reorg
      const kept = await send(token.transfer!(BOB, 12n));
      await anvil.mine(3);
      await until('the payment delivered', () => trigger.fired.length === 1);
      expect(trigger.fired[0]!.payload.block).toBe(kept);
      await anvil.rpc('anvil_reorg', [5, []]);
      anvil.signer.reset();
      const alert = await until('the reorg alert fired', () => reorgs.fired[0]);
      expect(alert.payload).toMatchObject({ type: 'deep-reorg', observer: 'wf1.pay', block: kept, confirmations: 3 });
      expect(reorgs.fired).toHaveLength(1);
      expect((await reader.entries()).filter((e) => e.kind === 'alert')).toHaveLength(1);
    } finally {
      await follower.stop();
      await trigger.stop();
      await reorgs.stop();
    }
  });

  it('fails over to the next RPC URL when one is down, and replays the log to the same state hash', async () => {
    const state = new MemoryPluginState();
    const start = await anvil.head();
    const trigger = await startTrigger(evmTrigger, params({ startBlock: start + 1, confirmations: 0 }), state);
    const follower = await startFollower(state, { networks: { local: { rpcUrls: ['http://127.0.0.1:9', anvil.url] } } });
    try {
      for (let i = 0; i < 3; i++) await send(token.transfer!(ALICE, BigInt(100 + i)));
      await until('three deliveries', () => trigger.fired.length === 3);
      const status = await state.get<ObserverStatus>(statusKey('wf1.pay'));
      expect(status?.rpcUrl).toBe(anvil.url);
      expect(follower.logs.some((l) => l.msg.includes('failing over'))).toBe(true);
      const entries = await new LogReader(state, 'wf1.pay').entries();
      const s = replay(entries);
      expect(Object.keys(s.totals[token.target as string]!)).toEqual(expect.arrayContaining([me, ALICE]));
      expect(s.totals[token.target as string]![ALICE]).toMatchObject({ received: '303', count: 3 });
      expect(stateHash(replay(structuredClone(entries)))).toBe(stateHash(s));
    } finally {
      await follower.stop();
      await trigger.stop();
    }
  });

  it('stops following an observer whose trigger stopped (workflow deactivated) and follows on from its cursor when it runs again, with nothing missed', async () => {
    const state = new MemoryPluginState();
    const start = await anvil.head();
    const reader = new LogReader(state, 'wf1.pay');
    let paused = await startTrigger(evmTrigger, params({ startBlock: start + 1, confirmations: 0 }), state);
    // a second observer keeps running: its progress proves the follower went round its loop
    const other = await startTrigger(evmTrigger, params({ startBlock: start + 1, confirmations: 0 }), state, 'wf3', 'pay');
    const follower = await startFollower(state, { networks: { local: { rpcUrls: [anvil.url] } } });
    const at = async (id: string) => (await state.get<ObserverStatus>(statusKey(id)))?.block;
    try {
      await send(token.transfer!(ALICE, 1n));
      await until('both delivered', () => paused.fired.length === 1 && other.fired.length === 1);
      // a second run of the same trigger (another daemon took over) stops late: the observer stays active
      const late = await startTrigger(evmTrigger, params({ startBlock: start + 1, confirmations: 0 }), state);
      await paused.stop();
      expect((await state.get<{ activeBy?: string }>('reg/wf1.pay'))?.activeBy).toEqual(expect.any(String));
      await late.stop(); // now no run holds it: deactivated
      expect((await state.get<{ activeBy?: string }>('reg/wf1.pay'))?.activeBy).toBeUndefined();
      await until('the follower saw it paused', () => follower.logs.some((l) => l.msg.includes('observer paused') && l.fields?.observer === 'wf1.pay'));
      const stoppedAt = await at('wf1.pay');
      const length = (await reader.entries()).length;
      const b2 = await send(token.transfer!(ALICE, 2n));
      await send(token.transfer!(ALICE, 3n));
      await anvil.mine(2);
      const head = await anvil.head();
      await until('the other observer at the head', async () => (await at('wf3.pay')) === head);
      await until('the other observer delivered both', () => other.fired.length === 3);
      // the follower has been round its loop since: the paused observer did not move
      expect(await at('wf1.pay')).toBe(stoppedAt);
      expect((await reader.entries()).length).toBe(length);
      expect(stoppedAt!).toBeLessThan(b2);

      // reactivated: it follows on from its cursor, so the transfers made meanwhile start executions
      paused = await startTrigger(evmTrigger, params({ startBlock: start + 1, confirmations: 0 }), state);
      await until('the paused observer caught up', async () => (await at('wf1.pay')) === head);
      await until('the transfers made while inactive delivered', () => paused.fired.length === 2);
      expect(paused.fired.map((f) => f.payload.rawAmount)).toEqual(['2', '3']);
      expect((await reader.entries()).length).toBe(length + 2);
    } finally {
      await follower.stop();
      await paused.stop();
      await other.stop();
    }
  });
});
