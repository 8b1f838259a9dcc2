// Payment observer benchmarks (issue 12), run once, not a timed test:
//  1. backfill: N Transfer events (default 100,000) emitted on a fresh anvil, then ingested from block
//     0 by the Follower into its append-only log on PostgreSQL (127.0.0.1:5432, fresh migrated database,
//     dropped after): events/s ingested and persisted (eth_getLogs + block headers + log appends), and
//     this process's CPU time per event. With BASELINE=<commit>, that commit's follower (compiled into
//     .bench-out/) ingests the same chain in the same run, alternating with this one ROUNDS times, so
//     the before/after ratio is measured under the same load.
//  2. replay: M stored events (default 1,000,000, synthetic Transfers and x402 flows appended to an
//     append-only log) read back and folded into state, with the state hash.
// Usage: npm run build && node bench/payments.mjs   (EVENTS=100000 REPLAY=1000000 RANGE=20 ROUNDS=2 BASELINE=e95d4ff)
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { ContractFactory, JsonRpcProvider, NonceManager, Wallet } from 'ethers';
import pg from 'pg';
import { openDatabase, pluginStateFor } from '../libs/persistence/dist/index.js';
import { FailoverRpc, Follower, LogReader, replay, stateHash } from '../plugins/payment-observer/dist/index.js';

const EVENTS = Number(process.env.EVENTS ?? 100_000);
const REPLAY = Number(process.env.REPLAY ?? 1_000_000);
const RANGE = Number(process.env.RANGE ?? 20);
const ROUNDS = Number(process.env.ROUNDS ?? 2);
const BASELINE = process.env.BASELINE;

/** the payment observer of another commit, compiled once into .bench-out/po-<commit> */
async function baselineFollower(commit) {
  const dir = `.bench-out/po-${commit}`;
  if (!existsSync(`${dir}/dist/index.js`)) {
    mkdirSync(dir, { recursive: true });
    execFileSync('sh', ['-c', `git archive ${commit} plugins/payment-observer/src | tar -x -C ${dir} --strip-components=2`]);
    writeFileSync(`${dir}/package.json`, '{"type":"module"}');
    writeFileSync(`${dir}/tsconfig.json`, JSON.stringify({ extends: '../../tsconfig.base.json', compilerOptions: { rootDir: 'src', outDir: 'dist', composite: false, declaration: false, declarationMap: false, sourceMap: false }, include: ['src'], exclude: ['src/**/*.spec.ts', 'src/**/spec-support/**'] }));
    execFileSync('node_modules/.bin/tsc', ['-p', `${dir}/tsconfig.json`], { stdio: 'inherit' });
  }
  return (await import(`../${dir}/dist/index.js`)).Follower;
}
const PG = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432';
const PER_TX = 2_000;
const log = (...a) => console.error(...a);

const port = await new Promise((r) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => r(p)); }); });
const anvil = spawn('node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil', ['--host', '127.0.0.1', '--port', String(port), '--silent', '--gas-limit', '100000000'], { stdio: 'ignore' });
const url = `http://127.0.0.1:${port}`;
const db = `af_bench_pay_${randomBytes(3).toString('hex')}`;
const admin = new pg.Client({ connectionString: `${PG}/postgres` });
let database;
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
  // raw JSON-RPC from anvil's unlocked first account, our own receipt wait: ethers' wait() hung twice on
  // the loaded machine (no transaction pending, the promise never settled)
  const rpc = async (method, params) => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
    const body = await res.json();
    if (body.error) throw new Error(`${method}: ${body.error.message}`);
    return body.result;
  };
  const from = await signer.getAddress();
  for (let sent = 0; sent < EVENTS; sent += PER_TX) {
    const data = token.interface.encodeFunctionData('spray', ['0x000000000000000000000000000000000000b0b0', BigInt(Math.min(PER_TX, EVENTS - sent))]);
    const hash = await rpc('eth_sendTransaction', [{ from, to: String(token.target), data, gas: '0x55d4a80' }]);
    for (let receipt = null; !receipt; ) {
      receipt = await rpc('eth_getTransactionReceipt', [hash]);
      if (!receipt) await new Promise((r) => setTimeout(r, 20));
      else if (receipt.status !== '0x1') throw new Error(`spray ${hash} reverted`);
    }
  }
  const head = await provider.getBlockNumber();
  log(`emitted ${EVENTS} transfers in ${head} blocks (${Date.now() - t0} ms)`);
  provider.destroy();

  await admin.connect();
  await admin.query(`CREATE DATABASE ${db}`);
  database = await openDatabase({ databaseUrl: `${PG}/${db}`, dataDir: '/nonexistent' });
  const state = pluginStateFor(database, '@anchorflow/plugin-payment-observer');
  const quiet = { debug() {}, info() {}, warn: log, error: log };
  const variants = [['after', Follower]];
  if (BASELINE) variants.push([`before (${BASELINE})`, await baselineFollower(BASELINE)]);
  const runs = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, Impl] of round % 2 ? [...variants].reverse() : variants) {
      const id = `bench${round}${name.slice(0, 1)}.pay`;
      const reg = { id, workflowId: id.split('.')[0], nodeId: 'pay', network: 'local', contract: String(token.target).toLowerCase(), event: 'erc20.Transfer', confirmations: 3, startBlock: 0, registeredAt: 0 };
      const follower = new Impl(reg, new FailoverRpc([url], { timeoutMs: 120_000 }), state, quiet, { maxRange: RANGE, recentBlocks: 128 }, () => Date.now());
      const cpu0 = process.cpuUsage();
      t0 = performance.now();
      let ingested = 0;
      for (;;) { const r = await follower.step(); ingested += r.events; if (r.caughtUp) break; }
      const ms = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      const cpuMs = (cpu.user + cpu.system) / 1000;
      const run = { variant: name, round, startedAtMs: Math.round(t0), events: ingested, ms: Math.round(ms), eventsPerSecond: Math.round((ingested * 1000) / ms), cpuMs: Math.round(cpuMs), cpuUsPerEvent: Number(((cpuMs * 1000) / ingested).toFixed(2)), load1: os.loadavg()[0] };
      log('backfill', run);
      runs.push(run);
    }
  }
  const stored = (await new LogReader(state, 'bench0a.pay').entries()).length;
  const mean = (name, k) => { const xs = runs.filter((r) => r.variant === name).map((r) => r[k]); return xs.reduce((a, b) => a + b, 0) / xs.length; };
  const backfill = { events: EVENTS, stored, range: RANGE, runs };
  if (BASELINE) {
    const before = variants[1][0];
    backfill.ratio = { eventsPerSecond: Number((mean('after', 'eventsPerSecond') / mean(before, 'eventsPerSecond')).toFixed(2)), cpuPerEvent: Number((mean('after', 'cpuUsPerEvent') / mean(before, 'cpuUsPerEvent')).toFixed(2)) };
    log('after / before', backfill.ratio);
  }

  // replay: synthetic log of REPLAY entries (90 % transfers among 1,000 addresses, 10 % x402 flow steps)
  const addr = (i) => `0x${(i % 1000).toString(16).padStart(40, '0')}`;
  const CHUNK = 5_000;
  t0 = Date.now();
  for (let pos = 0; pos < REPLAY; ) {
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
    await state.log('obs/replay.bench').append(entries);
  }
  log(`stored ${REPLAY} synthetic entries in ${Date.now() - t0} ms`);
  const replays = [];
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
    replays.push({ entries: entries.length, readMs, foldAndHashMs: foldMs, totalMs: Date.now() - t0, flows: Object.keys(s.flows).length });
  }
  log('replay', replays, hash);
  console.log(JSON.stringify({ backfill, replay: { runs: replays, hash }, node: process.version, cpus: os.cpus().length, load1: os.loadavg()[0], at: new Date().toISOString() }, null, 2));
} finally {
  anvil.kill('SIGKILL');
  await database?.close();
  try { await admin.query(`DROP DATABASE IF EXISTS ${db}`); } catch { /* not connected */ }
  await admin.end().catch(() => undefined);
}
