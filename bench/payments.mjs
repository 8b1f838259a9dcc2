// Payment observer benchmarks (issue 12), run once, not a timed test:
//  1. backfill: N Transfer events (default 100,000) emitted on a fresh anvil, then ingested from block
//     0 by the Follower into plugin state on PostgreSQL (127.0.0.1:5432, fresh database, dropped after):
//     events/s ingested and persisted (eth_getLogs + block headers + chunk writes).
//  2. replay: M stored events (default 1,000,000, synthetic Transfers and x402 flows written as log
//     chunks in plugin state) read back and folded into state, with the state hash.
// Usage: npm run build && node bench/payments.mjs   (EVENTS=100000 REPLAY=1000000 RANGE=20)
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { ContractFactory, JsonRpcProvider, NonceManager, Wallet } from 'ethers';
import pg from 'pg';
import { createSqlPool, pluginStateFor } from '../libs/persistence/dist/index.js';
import { chunkKey, FailoverRpc, Follower, LogReader, replay, stateHash } from '../plugins/payment-observer/dist/index.js';

const EVENTS = Number(process.env.EVENTS ?? 100_000);
const REPLAY = Number(process.env.REPLAY ?? 1_000_000);
const RANGE = Number(process.env.RANGE ?? 20);
const PG = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432';
const PER_TX = 2_000;
const log = (...a) => console.error(...a);

const port = await new Promise((r) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => r(p)); }); });
const anvil = spawn('node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil', ['--host', '127.0.0.1', '--port', String(port), '--silent', '--gas-limit', '100000000'], { stdio: 'ignore' });
const url = `http://127.0.0.1:${port}`;
const db = `af_bench_pay_${randomBytes(3).toString('hex')}`;
const admin = new pg.Client({ connectionString: `${PG}/postgres` });
let pool;
try {
  for (let i = 0; ; i++) {
    try { await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' }); break; } catch { if (i > 100) throw new Error('anvil did not start'); await new Promise((r) => setTimeout(r, 50)); }
  }
  const provider = new JsonRpcProvider(url, undefined, { batchMaxCount: 1, cacheTimeout: -1, polling: true, pollingInterval: 20 });
  const signer = new NonceManager(new Wallet('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80', provider));
  const art = JSON.parse(readFileSync('contracts/test/TestToken.json', 'utf8'));
  const token = await (await new ContractFactory(art.abi, art.bytecode, signer).deploy('Bench', 'B', 6)).waitForDeployment();
  await (await token.mint(await signer.getAddress(), BigInt(EVENTS) * 10n)).wait();
  let t0 = Date.now();
  for (let sent = 0; sent < EVENTS; sent += PER_TX) await (await token.spray('0x000000000000000000000000000000000000b0b0', BigInt(Math.min(PER_TX, EVENTS - sent)), { gasLimit: 90_000_000 })).wait();
  const head = await provider.getBlockNumber();
  log(`emitted ${EVENTS} transfers in ${head} blocks (${Date.now() - t0} ms)`);
  provider.destroy();

  await admin.connect();
  await admin.query(`CREATE DATABASE ${db}`);
  pool = createSqlPool(`${PG}/${db}`);
  await pool.query(`create table "plugin_state" ("plugin" text not null, "key" text collate "C" not null, "value" jsonb not null, "updated_at" timestamptz not null default now(), primary key ("plugin", "key"))`);
  const state = pluginStateFor({ pool }, '@anchorflow/plugin-payment-observer');
  const quiet = { debug() {}, info() {}, warn: log, error: log };
  const reg = { id: 'bench.pay', workflowId: 'bench', nodeId: 'pay', network: 'local', contract: String(token.target).toLowerCase(), event: 'erc20.Transfer', confirmations: 3, startBlock: 0, registeredAt: 0 };
  const follower = new Follower(reg, new FailoverRpc([url], { timeoutMs: 120_000 }), state, quiet, { maxRange: RANGE, recentBlocks: 128 }, () => Date.now());
  t0 = Date.now();
  let ingested = 0;
  for (;;) { const r = await follower.step(); ingested += r.events; if (r.caughtUp) break; }
  const backfillMs = Date.now() - t0;
  const stored = (await new LogReader(state, 'bench.pay').entries()).length;
  const backfill = { events: ingested, stored, ms: backfillMs, eventsPerSecond: Math.round((ingested * 1000) / backfillMs), range: RANGE };
  log('backfill', backfill);

  // replay: synthetic log of REPLAY entries (90 % transfers among 1,000 addresses, 10 % x402 flow steps)
  const addr = (i) => `0x${(i % 1000).toString(16).padStart(40, '0')}`;
  const CHUNK = 5_000;
  t0 = Date.now();
  for (let seq = 1, pos = 0; pos < REPLAY; seq++) {
    const entries = [];
    for (let k = 0; k < CHUNK && pos < REPLAY; k++, pos++) {
      const block = Math.floor(pos / 50);
      const base = { kind: 'event', pos, id: `0x${pos.toString(16).padStart(64, '0')}:0`, chainId: 31337, block, blockHash: `0x${block.toString(16).padStart(64, '0')}`, txIndex: pos % 50, logIndex: 0, txHash: `0x${pos.toString(16).padStart(64, '0')}`, address: addr(7), timestamp: 1_700_000_000 + block };
      const f = Math.floor(pos / 40);
      const step = pos % 40;
      if (step >= 36) {
        const flowId = `0x${f.toString(16).padStart(64, '0')}`;
        const ev = ['FlowStarted', 'FlowDecision', 'FlowSettled', 'FlowFailed'][step - 36];
        const args = ev === 'FlowStarted' ? { flowId, payer: addr(f), payee: addr(f + 1), token: addr(7), amount: String(1000 + f), resource: '/r' } : ev === 'FlowDecision' ? { flowId, accepted: true, reason: '' } : ev === 'FlowSettled' ? { flowId, settlementRef: flowId } : { flowId, reason: 'late' };
        entries.push({ ...base, event: ev, args });
      } else {
        entries.push({ ...base, event: 'Transfer', args: { from: addr(pos), to: addr(pos * 7 + 3), value: String(pos % 997) }, decimals: 6 });
      }
    }
    await state.set(`obs/replay.bench/log/${String(seq).padStart(12, '0')}`, { seq, firstPos: entries[0].pos, fromBlock: entries[0].block, toBlock: entries.at(-1).block, toHash: '0x', entries });
  }
  log(`stored ${REPLAY} synthetic entries in ${Date.now() - t0} ms`);
  void chunkKey;
  const runs = [];
  let hash;
  for (let i = 0; i < 2; i++) {
    t0 = Date.now();
    const entries = await new LogReader(state, 'replay.bench').entries();
    const readMs = Date.now() - t0;
    const t1 = Date.now();
    const s = replay(entries);
    const h = stateHash(s);
    const foldMs = Date.now() - t1;
    if (hash && h !== hash) throw new Error('replay hash differs between runs');
    hash = h;
    runs.push({ entries: entries.length, readMs, foldAndHashMs: foldMs, totalMs: Date.now() - t0, flows: Object.keys(s.flows).length });
  }
  log('replay', runs, hash);
  console.log(JSON.stringify({ backfill, replay: { runs, hash }, node: process.version, at: new Date().toISOString() }, null, 2));
} finally {
  anvil.kill('SIGKILL');
  await pool?.end();
  try { await admin.query(`DROP DATABASE IF EXISTS ${db}`); } catch { /* not connected */ }
  await admin.end().catch(() => undefined);
}
