import { fromHex, parseProof, ProofFormatError, toHex, type Proof } from './proof-format.js';
import { leafHash, rootFromPath } from './merkle.js';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface Verdict {
  valid: boolean;
  checks: Check[];
}

/** Online checks for one chain kind: the root's event in that transaction, block canonical and deep enough. */
export type OnlineChecker = (proof: Proof) => Promise<Check[]>;

export interface VerifyOptions {
  /** the original data; when present the leaf must be its hash */
  data?: unknown;
  hasData?: boolean;
  /** omitted: offline only */
  online?: OnlineChecker;
}

/**
 * The verdict of `chain.verify`, POST /api/v1/proofs/verify and `anchorflow proof verify`. A malformed
 * proof is not a verdict: it throws ProofFormatError (the CLI exits 2, REST answers 400).
 */
export async function verifyProof(input: unknown, options: VerifyOptions = {}): Promise<Verdict> {
  const proof = parseProof(input);
  const checks = verifyOffline(proof, options);
  if (options.online) {
    try {
      checks.push(...(await options.online(proof)));
    } catch (err) {
      checks.push({ name: 'online', ok: false, detail: `could not check on chain: ${(err as Error).message}` });
    }
  }
  return { valid: checks.every((c) => c.ok), checks };
}

export function verifyOffline(proof: Proof, options: { data?: unknown; hasData?: boolean } = {}): Check[] {
  const checks: Check[] = [];
  if (options.hasData || options.data !== undefined) {
    let leaf: string;
    try {
      leaf = toHex(leafHash(options.data));
    } catch (err) {
      checks.push({ name: 'leaf', ok: false, detail: `data cannot be hashed: ${(err as Error).message}` });
      leaf = '';
    }
    if (leaf) checks.push(leaf === proof.leaf ? { name: 'leaf', ok: true, detail: 'the data hashes to the leaf' } : { name: 'leaf', ok: false, detail: `the data hashes to ${leaf}, the proof's leaf is ${proof.leaf}` });
  }
  const root = toHex(rootFromPath(fromHex(proof.leaf), proof.path.map((s) => ({ hash: fromHex(s.hash) }))));
  checks.push(
    root === proof.root
      ? { name: 'path', ok: true, detail: `the leaf and ${proof.path.length} path step(s) lead to the root` }
      : { name: 'path', ok: false, detail: `the leaf and path lead to ${root}, not to the root ${proof.root}` },
  );
  return checks;
}

export { ProofFormatError };
