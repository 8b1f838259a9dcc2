// chain-anchor benchmark (issue 9): `npm run build && node bench/chain-anchor.mjs` (~1 min; figures in BENCHMARKS.md).
//   * leaves/s into batches: leaf hashing (RFC 8785 JSON + SHA-256) of 100,000 invoice-like documents,
//     then the Merkle tree over them;
//   * proofs/s out: a proof object (path + hex) for each of the 100,000 leaves;
//   * proof size (JSON bytes) and offline verify time (parse + leaf → root) for batches of 1, 100, 10,000, 100,000;
//   * on anvil with 1 s blocks: seconds from chain.anchor to proof (batcher maxWaitMs 200, 1 confirmation),
//     items and gas per transaction for a 10,000-item batch.
// Knobs (env): LEAVES (100000) ROUNDS (5) ROUND_ITEMS (100) BIG_BATCH (10000)
import { performance } from 'node:perf_hooks';
import { MerkleTree, leafHash, toHex, parseProof, verifyOffline, EvmChain, AnchorService, pendingKey, tokenFor } from '../plugins/chain-anchor/dist/index.js';
import { MemoryPluginState } from '../libs/plugin-sdk/dist/testing/index.js';
import { startAnvil, ANVIL_KEY_0 } from './support-anvil.mjs';

const E = process.env;
const LEAVES = Number(E.LEAVES ?? 100_000);
const ROUNDS = Number(E.ROUNDS ?? 5);
const ROUND_ITEMS = Number(E.ROUND_ITEMS ?? 100);
const BIG_BATCH = Number(E.BIG_BATCH ?? 10_000);
const doc = (i) => ({ invoice: `INV-${i}`, customer: `C-${i % 977}`, total: Math.round(i * 1.37 * 100) / 100, currency: 'EUR', lines: [{ sku: `S${i % 50}`, qty: 1 + (i % 5) }] });
const anchor = { chain: 'evm', network: 'local', chainId: 31337, txHash: '0x' + 'ab'.repeat(32), block: 123456, blockHash: '0x' + 'cd'.repeat(32), contract: '0x' + '12'.repeat(20), timestamp: '2026-12-07T06:00:00.000Z' };
const proofOf = (tree, i) => ({ v: 1, hash: 'sha256', leaf: toHex(tree.levels[0][i]), path: tree.path(i).map((s) => ({ side: s.side, hash: toHex(s.hash) })), root: toHex(tree.root), anchor });
const out = [];
// The machine is shared: besides wall time, the process's own CPU time (user + system) is reported.
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const line = (s) => { out.push(s); console.log(s); };

// 1. leaves/s and proofs/s
const docs = Array.from({ length: LEAVES }, (_, i) => doc(i));
const rate = (n, ms) => Math.round(n / (ms / 1000)).toLocaleString('en');
let t = performance.now(), c = cpu();
const leaves = docs.map((d) => leafHash(d));
const hashMs = performance.now() - t, hashCpu = cpu() - c;
t = performance.now(); c = cpu();
const tree = new MerkleTree(leaves);
const treeMs = performance.now() - t, treeCpu = cpu() - c;
t = performance.now(); c = cpu();
let steps = 0;
for (let i = 0; i < LEAVES; i++) steps += proofOf(tree, i).path.length;
const proofMs = performance.now() - t, proofCpu = cpu() - c;
line(`| measure (${LEAVES.toLocaleString('en')} invoice-like docs) | per wall second | per CPU second |`);
line('|---|---|---|');
line(`| leaves hashed (RFC 8785 JSON + SHA-256) | ${rate(LEAVES, hashMs)} leaves/s | ${rate(LEAVES, hashCpu)} leaves/s |`);
line(`| leaves hashed + Merkle tree built (into one batch) | ${rate(LEAVES, hashMs + treeMs)} leaves/s | ${rate(LEAVES, hashCpu + treeCpu)} leaves/s |`);
line(`| proofs built (path + hex, ${(steps / LEAVES).toFixed(1)} steps avg) | ${rate(LEAVES, proofMs)} proofs/s | ${rate(LEAVES, proofCpu)} proofs/s |`);

// 2. proof size and verify time by batch size
line('');
line('| batch size | path steps (max) | proof JSON bytes (max) | offline verify (JSON.parse + format check + leaf → root), µs/proof wall | µs/proof CPU |');
line('|---|---|---|---|---|');
for (const n of [1, 100, 10_000, 100_000].filter((x) => x <= LEAVES)) {
  const tr = new MerkleTree(leaves.slice(0, n));
  const sample = 10_000; // small batches: their proofs repeated, so every row times 10,000 verifications
  const proofs = Array.from({ length: sample }, (_, k) => JSON.stringify(proofOf(tr, n >= sample ? Math.floor((k * n) / sample) : k % n)));
  for (const p of proofs.slice(0, 2000)) verifyOffline(parseProof(JSON.parse(p))); // warm-up
  const t0 = performance.now(), c0 = cpu();
  let ok = 0;
  for (const p of proofs) ok += verifyOffline(parseProof(JSON.parse(p))).every((x) => x.ok) ? 1 : 0;
  const us = ((performance.now() - t0) * 1000) / sample, usCpu = ((cpu() - c0) * 1000) / sample;
  if (ok !== sample) throw new Error(`only ${ok}/${sample} proofs verified`);
  const deepest = JSON.stringify(proofOf(tr, 0));
  line(`| ${n.toLocaleString('en')} | ${tr.levels.length - 1} | ${deepest.length} | ${us.toFixed(1)} | ${usCpu.toFixed(1)} |`);
}

// 3. anvil with 1 s blocks
const anvil = await startAnvil(['--block-time', '1']);
try {
  const chain = new EvmChain({ rpcUrls: [anvil.url], chainId: 31337, rpcTimeoutMs: 5000 });
  const registry = (await chain.deployRegistry(ANVIL_KEY_0, 100)).address.toLowerCase();
  const state = new MemoryPluginState();
  const resumed = new Map();
  const ctx = {
    config: { chains: { local: { kind: 'evm', rpcUrls: [anvil.url], chainId: 31337, registry, signer: 'k', confirmations: 1, batchSize: 100_000, maxWaitMs: 200, pollMs: 50 } } },
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    credentials: { get: async () => ({ privateKey: ANVIL_KEY_0 }) },
    state, signal: new AbortController().signal, now: () => Date.now(),
    resume: async (token, data) => { resumed.set(token, { at: performance.now(), data }); return true; },
  };
  const service = new AnchorService(ctx);
  await service.init();
  service.start();
  const enqueue = async (key, d) => state.set(pendingKey('local', key), { leaf: toHex(leafHash(d)), token: tokenFor(key), enqueuedAt: Date.now() });
  const waitFor = async (tokens, deadlineMs = 60_000) => {
    const end = Date.now() + deadlineMs;
    while (!tokens.every((x) => resumed.has(x))) { if (Date.now() > end) throw new Error('no proof in time'); await new Promise((r) => setTimeout(r, 20)); }
  };
  const secs = [];
  for (let r = 0; r < ROUNDS; r++) {
    const keys = Array.from({ length: ROUND_ITEMS }, (_, i) => `r${r}:${i}`);
    const t0 = performance.now();
    await Promise.all(keys.map((k, i) => enqueue(k, doc(r * 1_000_000 + i))));
    await waitFor(keys.map(tokenFor));
    secs.push(...keys.map((k) => (resumed.get(tokenFor(k)).at - t0) / 1000));
  }
  secs.sort((a, b) => a - b);
  line('');
  line('| on anvil --block-time 1 | result |');
  line('|---|---|');
  line(`| anvil --block-time 1: chain.anchor → proof (${ROUNDS} rounds × ${ROUND_ITEMS} items, maxWaitMs 200, 1 confirmation) | p50 ${secs[Math.floor(secs.length / 2)].toFixed(2)} s, max ${secs[secs.length - 1].toFixed(2)} s |`);
  const big = Array.from({ length: BIG_BATCH }, (_, i) => `big:${i}`);
  const t1 = performance.now();
  for (let i = 0; i < big.length; i += 1000) await Promise.all(big.slice(i, i + 1000).map((k, j) => enqueue(k, doc(9_000_000 + i + j))));
  await waitFor(big.map(tokenFor), 120_000);
  const p = resumed.get(tokenFor(big[0])).data.proof;
  const txs = new Set(big.map((k) => resumed.get(tokenFor(k)).data.proof.anchor.txHash));
  const receipt = await anvil.rpc('eth_getTransactionReceipt', [p.anchor.txHash]);
  line(`| ${BIG_BATCH.toLocaleString('en')} items enqueued at once | ${txs.size} transaction(s), ${Number(receipt.gasUsed)} gas, all proofs after ${((performance.now() - t1) / 1000).toFixed(2)} s |`);
  await service.stop();
  chain.destroy();
} finally {
  await anvil.stop();
}
