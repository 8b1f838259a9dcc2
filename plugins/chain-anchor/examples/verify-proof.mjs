// Standalone Anchorflow proof verifier (ARCHITECTURE §9), node:crypto + ethers 6 only.
// node verify-proof.mjs <proof.json> [<evm rpc url>] [<data.json>]   → exit 0 valid, 1 invalid
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { JsonRpcProvider, id } from 'ethers';

const sha256 = (...parts) => createHash('sha256').update(Buffer.concat(parts)).digest();
const bytes = (hex) => Buffer.from(hex.slice(2), 'hex');
// RFC 8785 for what JSON.parse returns: sorted keys, no whitespace, ECMAScript number and string forms
const canonical = (v) => (Array.isArray(v) ? `[${v.map(canonical).join(',')}]`
  : v && typeof v === 'object' ? `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`
  : JSON.stringify(v));

const [proofFile, rpcUrl, dataFile] = process.argv.slice(2);
const proof = JSON.parse(readFileSync(proofFile, 'utf8'));
let valid = true;
const check = (name, ok) => { console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}`); valid &&= ok; };
if (dataFile) check('leaf', '0x' + sha256(Buffer.from([0]), Buffer.from(canonical(JSON.parse(readFileSync(dataFile, 'utf8'))))).toString('hex') === proof.leaf);
let h = bytes(proof.leaf); // fold the path: inner = SHA-256(0x01 ‖ min ‖ max), no left/right needed
for (const step of proof.path) { const s = bytes(step.hash); h = sha256(Buffer.from([1]), ...(Buffer.compare(h, s) <= 0 ? [h, s] : [s, h])); }
check('path', '0x' + h.toString('hex') === proof.root);
if (rpcUrl && proof.anchor.chain === 'evm') {
  const rpc = new JsonRpcProvider(rpcUrl, undefined, { batchMaxCount: 1 });
  const { anchor } = proof;
  const receipt = await rpc.getTransactionReceipt(anchor.txHash);
  const topic = id('Anchored(bytes32,address,bytes32,uint32,uint256)');
  check('anchor-event', receipt?.status === 1 && receipt.logs.some((l) => l.address.toLowerCase() === anchor.contract && l.topics[0] === topic && l.topics[1] === proof.root));
  check('block-canonical', (await rpc.getBlock(anchor.block))?.hash === anchor.blockHash && receipt?.blockHash === anchor.blockHash);
  console.log(`     confirmations: ${(await rpc.getBlockNumber()) - anchor.block + 1}`);
  rpc.destroy();
}
console.log(valid ? 'VALID' : 'INVALID');
process.exit(valid ? 0 : 1);
