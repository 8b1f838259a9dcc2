import { hash as oneShotHash } from 'node:crypto';
import { canonicalJson } from '@anchorflow/plugin-sdk';

/**
 * The Merkle tree of ARCHITECTURE §9, byte for byte (third parties implement it from the README):
 * leaf = SHA-256(0x00 ‖ UTF-8 of RFC 8785 canonical JSON), inner = SHA-256(0x01 ‖ min(a,b) ‖ max(a,b))
 * with the children compared as unsigned big-endian byte strings, an odd node promoted unchanged (never
 * duplicated: duplication lets two different batches share a root), a one-leaf tree has root = leaf.
 * The 0x00/0x01 prefixes keep a leaf from ever being passed off as an inner node.
 */
const LEAF_PREFIX = Buffer.from([0x00]);
const INNER_PREFIX = Buffer.from([0x01]);

export type Hash = Buffer;

export interface PathStep {
  /** where the sibling goes in the sorted concatenation: informative only, the verifier orders by value */
  side: 'left' | 'right';
  hash: Hash;
}

export function leafHashOfBytes(bytes: Uint8Array): Hash {
  return oneShotHash('sha256', Buffer.concat([LEAF_PREFIX, bytes]), 'buffer');
}

/** leaf of a string of canonical JSON (UTF-8 encoded into the preimage directly, no intermediate copy) */
function leafHashOfJson(json: string): Hash {
  const pre = Buffer.allocUnsafe(1 + Buffer.byteLength(json, 'utf8'));
  pre[0] = 0x00;
  pre.write(json, 1, 'utf8');
  return oneShotHash('sha256', pre, 'buffer');
}

/** leaf of any JSON value; throws CanonicalJsonError for values JSON cannot carry (NaN, cycles, bigint) */
export function leafHash(data: unknown): Hash {
  return leafHashOfJson(canonicalJson(data));
}

// One scratch buffer for the 65-byte preimage and the one-shot hash: about twice as fast as createHash()
// per inner node, which is most of a proof's verification time (synchronous, so sharing it is safe).
const INNER = Buffer.alloc(65, INNER_PREFIX[0]);

export function innerHash(a: Hash, b: Hash): Hash {
  const aFirst = Buffer.compare(a, b) <= 0;
  (aFirst ? a : b).copy(INNER, 1);
  (aFirst ? b : a).copy(INNER, 33);
  return oneShotHash('sha256', INNER, 'buffer');
}

/** A built tree: levels[0] are the leaves, the last level holds the root. */
export class MerkleTree {
  readonly levels: Hash[][];

  constructor(leaves: readonly Hash[]) {
    if (leaves.length === 0) throw new RangeError('a Merkle tree needs at least one leaf');
    for (const [i, l] of leaves.entries()) if (l.length !== 32) throw new RangeError(`leaf ${i} is ${l.length} bytes, not 32`);
    const levels: Hash[][] = [leaves.slice()];
    let level = levels[0];
    while (level.length > 1) {
      const next: Hash[] = new Array(Math.ceil(level.length / 2));
      for (let i = 0, j = 0; i < level.length; i += 2, j++) next[j] = i + 1 < level.length ? innerHash(level[i], level[i + 1]) : level[i];
      levels.push(next);
      level = next;
    }
    this.levels = levels;
  }

  get root(): Hash {
    return this.levels[this.levels.length - 1][0];
  }

  get size(): number {
    return this.levels[0].length;
  }

  /** siblings from the leaf up; a promoted odd node contributes no step */
  path(index: number): PathStep[] {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) throw new RangeError(`leaf index ${index} outside 0..${this.size - 1}`);
    const steps: PathStep[] = [];
    let i = index;
    for (let d = 0; d < this.levels.length - 1; d++) {
      const level = this.levels[d];
      const sibling = i ^ 1;
      if (sibling < level.length) {
        const hash = level[sibling];
        steps.push({ side: Buffer.compare(hash, level[i]) <= 0 ? 'left' : 'right', hash });
      }
      i >>= 1;
    }
    return steps;
  }
}

/** folds a path onto a leaf; equals the root exactly when the proof is sound */
export function rootFromPath(leaf: Hash, path: readonly { hash: Hash }[]): Hash {
  let h = leaf;
  for (const step of path) h = innerHash(h, step.hash);
  return h;
}
