/**
 * The proof file (ARCHITECTURE §9, version 1): self-contained, hex lowercase with 0x.
 * `parseProof` accepts only this exact shape and lists every problem with its JSON path.
 */
export interface ProofAnchor {
  chain: 'evm' | 'casper';
  /** the network's name in the issuer's config (`chains.<name>`) */
  network: string;
  /** EVM only */
  chainId?: number;
  txHash: string;
  block: number;
  blockHash: string;
  /** EVM: registry address (0x, lowercase); Casper: contract hash */
  contract: string;
  /** block time, ISO 8601 UTC */
  timestamp: string;
}

export interface ProofPathStep {
  side: 'left' | 'right';
  hash: string;
}

export interface Proof {
  v: 1;
  hash: 'sha256';
  leaf: string;
  path: ProofPathStep[];
  root: string;
  anchor: ProofAnchor;
}

export class ProofFormatError extends Error {
  readonly code = 'PROOF_MALFORMED';
  constructor(readonly problems: Array<{ path: string; message: string }>) {
    super(`malformed proof: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`);
    this.name = 'ProofFormatError';
  }
}

const HASH32 = /^0x[0-9a-f]{64}$/;
const HEX = /^0x[0-9a-f]+$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function parseProof(input: unknown): Proof {
  const problems: Array<{ path: string; message: string }> = [];
  const bad = (path: string, message: string) => void problems.push({ path, message });
  if (!isObject(input)) throw new ProofFormatError([{ path: '$', message: 'must be a JSON object' }]);
  const known = new Set(['v', 'hash', 'leaf', 'path', 'root', 'anchor']);
  for (const k of Object.keys(input)) if (!known.has(k)) bad(`$.${k}`, 'is not a proof field');
  if (input.v !== 1) bad('$.v', `must be 1 (got ${JSON.stringify(input.v)})`);
  if (input.hash !== 'sha256') bad('$.hash', `must be "sha256" (got ${JSON.stringify(input.hash)})`);
  for (const k of ['leaf', 'root'] as const) if (typeof input[k] !== 'string' || !HASH32.test(input[k] as string)) bad(`$.${k}`, 'must be 0x and 64 lowercase hex digits');
  if (!Array.isArray(input.path)) bad('$.path', 'must be an array');
  else {
    if (input.path.length > 256) bad('$.path', `has ${input.path.length} steps; at most 256`);
    input.path.forEach((s, i) => {
      if (!isObject(s)) return bad(`$.path[${i}]`, 'must be an object {side, hash}');
      if (s.side !== 'left' && s.side !== 'right') bad(`$.path[${i}].side`, 'must be "left" or "right"');
      if (typeof s.hash !== 'string' || !HASH32.test(s.hash)) bad(`$.path[${i}].hash`, 'must be 0x and 64 lowercase hex digits');
      for (const k of Object.keys(s)) if (k !== 'side' && k !== 'hash') bad(`$.path[${i}].${k}`, 'is not a path step field');
    });
  }
  const a = input.anchor;
  if (!isObject(a)) bad('$.anchor', 'must be an object');
  else {
    if (a.chain !== 'evm' && a.chain !== 'casper') bad('$.anchor.chain', 'must be "evm" or "casper"');
    if (typeof a.network !== 'string' || a.network === '') bad('$.anchor.network', 'must be a non-empty string');
    if (a.chainId !== undefined && (!Number.isSafeInteger(a.chainId) || (a.chainId as number) <= 0)) bad('$.anchor.chainId', 'must be a positive integer');
    if (a.chain === 'evm' && a.chainId === undefined) bad('$.anchor.chainId', 'is required for an EVM anchor');
    if (typeof a.txHash !== 'string' || !HASH32.test(a.txHash)) bad('$.anchor.txHash', 'must be 0x and 64 lowercase hex digits');
    if (!Number.isSafeInteger(a.block) || (a.block as number) < 0) bad('$.anchor.block', 'must be a block number (integer ≥ 0)');
    if (typeof a.blockHash !== 'string' || !HASH32.test(a.blockHash)) bad('$.anchor.blockHash', 'must be 0x and 64 lowercase hex digits');
    if (typeof a.contract !== 'string' || !HEX.test(a.contract)) bad('$.anchor.contract', 'must be lowercase hex with 0x');
    if (typeof a.timestamp !== 'string' || Number.isNaN(Date.parse(a.timestamp))) bad('$.anchor.timestamp', 'must be an ISO 8601 date-time');
    const knownA = new Set(['chain', 'network', 'chainId', 'txHash', 'block', 'blockHash', 'contract', 'timestamp']);
    for (const k of Object.keys(a)) if (!knownA.has(k)) bad(`$.anchor.${k}`, 'is not an anchor field');
  }
  if (problems.length) throw new ProofFormatError(problems);
  return input as unknown as Proof;
}

export const toHex = (b: Uint8Array): string => '0x' + Buffer.from(b).toString('hex');
export const fromHex = (h: string): Buffer => Buffer.from(h.slice(2), 'hex');
