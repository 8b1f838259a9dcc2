import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { Contract } from 'ethers';
import type { AppendOptions, NodeLogger, PluginState } from '@anchorflow/plugin-sdk';
import { MemoryPluginState } from '@anchorflow/plugin-sdk/testing';
import { Follower } from './follower.js';
import { LogReader } from './log-store.js';
import { cursorKey, type Registration } from './model.js';
import { FailoverRpc } from './rpc.js';
import { replay, stateHash } from './reducer.js';
import { type Anvil, deploy, send, startAnvil } from './spec-support/anvil.js';

const BOB = '0x000000000000000000000000000000000000b0b0';
const logs: Array<{ level: string; msg: string; fields?: Record<string, unknown> }> = [];
const logger: NodeLogger = Object.fromEntries(['debug', 'info', 'warn', 'error'].map((level) => [level, (msg: string, fields?: Record<string, unknown>) => logs.push({ level, msg, fields })])) as unknown as NodeLogger;

let anvil: Anvil;
let token: Contract;
let flow: Contract;
let startBlock: number;

/** a node in front of anvil that refuses eth_getLogs over more than `maxSpan` blocks, like hosted RPCs do */
let maxSpan = 3;
let garbage = 0;
let proxy: Server;
let proxyUrl: string;

beforeAll(async () => {
  anvil = await startAnvil();
  token = await deploy(anvil, 'TestToken', ['Test USD', 'TUSD', 6]);
  flow = await deploy(anvil, 'X402Flow');
  const me = await anvil.signer.getAddress();
  startBlock = (await anvil.head()) + 1;
  await send(token.mint!(me, 1_000_000n));
  for (let i = 0; i < 8; i++) {
    await send(token.spray!(BOB, BigInt(i + 1)));
    await anvil.mine(2);
  }
  const id = (n: number) => `0x${n.toString(16).padStart(64, '0')}`;
  await send(flow.start!(id(1), BOB, token.target, 500n, '/weather'));
  await send(flow.start!(id(2), BOB, token.target, 700n, '/news'));
  await send(flow.decide!(id(1), true, ''));
  await send(flow.decide!(id(2), false, 'over budget'));
  await send(flow.settle!(id(1), id(99)));
  await send(flow.start!(id(3), BOB, token.target, 900n, '/maps'));
  await send(flow.fail!(id(3), 'payer vanished'));
  proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const call = JSON.parse(body) as { id: number; method: string; params: Array<{ fromBlock: string; toBlock: string }> };
      if (garbage > 0) {
        garbage--;
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"jsonrpc":"2.0","id":1,"result":');
        return;
      }
      if (call.method === 'eth_getLogs' && Number.parseInt(call.params[0]!.toBlock, 16) - Number.parseInt(call.params[0]!.fromBlock, 16) + 1 > maxSpan) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: call.id, error: { code: -32005, message: 'query returned more than 10000 results' } }));
        return;
      }
      const r = await fetch(anvil.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      res.writeHead(r.status, { 'content-type': 'application/json' }).end(await r.text());
    });
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
}, 30_000);
afterAll(async () => {
  proxy?.closeAllConnections();
  await new Promise((r) => proxy?.close(r));
  await anvil?.stop();
});

const reg = (over: Partial<Registration> = {}): Registration => ({ id: 'w.t', workflowId: 'w', nodeId: 't', network: 'local', contract: (token.target as string).toLowerCase(), event: 'erc20.Transfer', confirmations: 3, startBlock, registeredAt: 0, ...over });

async function runToHead(f: Follower, maxSteps = 500): Promise<number> {
  for (let i = 0; i < maxSteps; i++) {
    try {
      if ((await f.step()).caughtUp) return i;
    } catch {
      // a failed step is retried by the service; here too
    }
  }
  throw new Error('did not catch up');
}

describe('Follower against a real anvil behind a limiting RPC', () => {
  it('shrinks the eth_getLogs range on "too many results", grows it back, and ingests every event once in (block, txIndex, logIndex) order', async () => {
    maxSpan = 3;
    const state = new MemoryPluginState();
    const f = new Follower(reg(), new FailoverRpc([proxyUrl]), state, logger, { maxRange: 64, recentBlocks: 32 }, () => 0);
    await runToHead(f);
    const entries = await new LogReader(state, 'w.t').entries();
    expect(entries).toHaveLength(1 + 36); // the mint and 1+2+…+8 sprayed transfers
    expect(new Set(entries.map((e) => e.kind === 'event' && e.id)).size).toBe(entries.length);
    const order = entries.map((e) => (e.kind === 'event' ? [e.block, e.txIndex, e.logIndex] : []));
    expect(order).toEqual([...order].sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!));
    expect(logs.some((l) => l.msg.includes('shrinking'))).toBe(true);
    expect(f.currentRange).toBeLessThanOrEqual(64);
    // a wider limit: the range grows back
    maxSpan = 1_000;
    await anvil.mine(40);
    await runToHead(f);
    expect(f.currentRange).toBe(64);
  });

  it('an RPC answering garbage is retried and reported, never crashes the follower', async () => {
    const state = new MemoryPluginState();
    const f = new Follower(reg(), new FailoverRpc([proxyUrl]), state, logger, { maxRange: 1000, recentBlocks: 32 }, () => 0);
    garbage = 2;
    await expect(f.step()).rejects.toThrow(/answer is not JSON/);
    await runToHead(f);
    expect(await new LogReader(state, 'w.t').entries()).toHaveLength(37);
  });

  it('a crash before or after any commit (entries with their cursor, or the cursor alone) loses and duplicates nothing', async () => {
    const inner = new MemoryPluginState();
    let crashes = 6;
    // the process dies around the commit: before it (odd crashes) or right after it (even ones)
    const die = async <T>(write: () => Promise<T>): Promise<T> => {
      if (crashes > 0 && crashes-- % 2 === 1) throw new Error('killed before the commit');
      const out = await write();
      if (crashes >= 0 && crashes % 2 === 1) throw new Error('killed after the commit');
      return out;
    };
    const state: PluginState = Object.assign(Object.create(inner) as PluginState, {
      set: (key: string, value: unknown) => (key === cursorKey('w.t') ? die(() => inner.set(key, value)) : inner.set(key, value)),
      log: <T>(stream: string) => {
        const log = inner.log<T>(stream);
        return { ...log, append: (entries: readonly T[], o?: AppendOptions) => die(() => log.append(entries, o)) };
      },
    });
    for (let i = 0; i < 20 && crashes > 0; i++) {
      // a fresh follower each time, as after a restart
      const f = new Follower(reg(), new FailoverRpc([anvil.url]), state, logger, { maxRange: 4, recentBlocks: 32 }, () => 0);
      try {
        for (let step = 0; step < 3; step++) await f.step();
      } catch {
        /* the process died: restart */
      }
    }
    await runToHead(new Follower(reg(), new FailoverRpc([anvil.url]), state, logger, { maxRange: 4, recentBlocks: 32 }, () => 0));
    expect(crashes).toBe(0);
    const entries = await new LogReader(inner, 'w.t').entries();
    expect(entries.map((e) => e.pos)).toEqual(entries.map((_, i) => i));
    expect(new Set(entries.map((e) => e.kind === 'event' && e.id)).size).toBe(37);
    expect(entries).toHaveLength(37);
  });

  it('moves a log kept by the first release (chunks in plugin state) into the append-only log: same positions, same replay hash, then follows on without a duplicate', async () => {
    // the reference: a log ingested by this release, stopped half-way
    const half = (await anvil.head()) - Math.floor(((await anvil.head()) - startBlock) / 2);
    const reference = new MemoryPluginState();
    await runToHead(new Follower(reg(), new FailoverRpc([anvil.url]), reference, logger, { maxRange: 1000, recentBlocks: 32 }, () => 0));
    const all = await new LogReader(reference, 'w.t').entries();
    const before = all.filter((e) => e.kind === 'event' && e.block <= half);
    expect(before.length).toBeGreaterThan(3);
    // the same entries as the first release stored them: two chunks, and a cursor that missed the
    // second one (the crash between chunk and cursor that release repaired on start)
    const legacy = new MemoryPluginState();
    const split = Math.floor(before.length / 2);
    const hashOf = async (b: number) => (await anvil.provider.getBlock(b))!.hash!;
    const chunk = (seq: number, entries: typeof before, fromBlock: number, toBlock: number, toHash: string) => ({ seq, firstPos: entries[0]!.pos, fromBlock, toBlock, toHash, entries });
    const mid = (before[split - 1] as { block: number }).block;
    await legacy.set('obs/w.t/log/000000000001', chunk(1, before.slice(0, split), startBlock, mid, await hashOf(mid)));
    await legacy.set('obs/w.t/log/000000000002', chunk(2, before.slice(split), mid + 1, half, await hashOf(half)));
    await legacy.set(cursorKey('w.t'), { seq: 1, nextPos: split, block: mid, hash: await hashOf(mid), recent: [[mid, await hashOf(mid)]] });
    await legacy.set('obs/w.t/delivered', { pos: 2, seq: 1 });

    const f = new Follower(reg(), new FailoverRpc([anvil.url]), legacy, logger, { maxRange: 1000, recentBlocks: 32 }, () => 0);
    await f.step();
    const moved = await new LogReader(legacy, 'w.t').entries();
    expect(moved.slice(0, before.length)).toEqual(before);
    expect(await legacy.list('obs/w.t/log/')).toEqual([]);
    expect(logs.some((l) => l.msg.includes('moved the observer log') && l.fields?.entries === before.length)).toBe(true);
    await runToHead(f);
    // followed on from the repaired cursor: the whole log, each event once, the same state hash
    const after = await new LogReader(legacy, 'w.t').entries();
    expect(after).toEqual(all);
    expect(stateHash(replay(after))).toBe(stateHash(replay(all)));
  });

  it('folds the x402 flow events into per-flow state with block timestamps; the replay hash is stable', async () => {
    const state = new MemoryPluginState();
    const f = new Follower(reg({ contract: (flow.target as string).toLowerCase(), event: 'x402.Flow' }), new FailoverRpc([anvil.url]), state, logger, { maxRange: 1000, recentBlocks: 32 }, () => 0);
    await runToHead(f);
    const entries = await new LogReader(state, 'w.t').entries();
    expect(entries.map((e) => e.kind === 'event' && e.event)).toEqual(['FlowStarted', 'FlowStarted', 'FlowDecision', 'FlowDecision', 'FlowSettled', 'FlowStarted', 'FlowFailed']);
    const s = replay(entries);
    const flows = Object.values(s.flows);
    expect(flows.map((x) => [x.resource, x.status, x.reason])).toEqual([
      ['/weather', 'settled', null],
      ['/news', 'rejected', 'over budget'],
      ['/maps', 'failed', 'payer vanished'],
    ]);
    const settled = flows[0]!;
    const settleEntry = entries[4]!;
    expect(settleEntry.kind === 'event' && settled.settledAt).toBe(settleEntry.kind === 'event' ? settleEntry.timestamp : -1);
    expect(s.totals[token.target as string]![BOB]).toEqual({ sent: '0', received: '500', count: 1 });
    expect(stateHash(replay(entries))).toBe(stateHash(s));
    // an out-of-order event is recorded as an anomaly, not applied
    const bad = structuredClone(entries);
    bad.push({ ...(entries[4] as Extract<(typeof entries)[number], { kind: 'event' }>), pos: 7, id: 'x:1' });
    const again = replay(bad);
    expect(Object.values(again.flows)[0]!.anomalies).toEqual([expect.stringContaining('FlowSettled while settled')]);
  });
});
