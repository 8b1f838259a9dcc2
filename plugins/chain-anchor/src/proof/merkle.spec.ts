import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { MerkleTree, innerHash, leafHash, rootFromPath } from './merkle.js';
import { parseProof, ProofFormatError, toHex } from './proof-format.js';
import { verifyOffline, verifyProof } from './verify.js';

const sha = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();

const anchor = { chain: 'evm' as const, network: 'local', chainId: 31337, txHash: '0x' + 'ab'.repeat(32), block: 7, blockHash: '0x' + 'cd'.repeat(32), contract: '0x' + '12'.repeat(20), timestamp: '2026-12-07T06:00:00.000Z' };

function proofFor(tree: MerkleTree, i: number) {
  return { v: 1 as const, hash: 'sha256' as const, leaf: toHex(tree.levels[0][i]), path: tree.path(i).map((s) => ({ side: s.side, hash: toHex(s.hash) })), root: toHex(tree.root), anchor };
}

describe('Merkle tree (ARCHITECTURE §9)', () => {
  it('hashes a leaf as SHA-256(0x00 ‖ RFC 8785 JSON) and an inner node as SHA-256(0x01 ‖ min ‖ max)', () => {
    const data = { b: 2, a: [1, 'x'] };
    expect(leafHash(data)).toEqual(sha(Buffer.from([0]), Buffer.from('{"a":[1,"x"],"b":2}', 'utf8')));
    const a = leafHash('a');
    const b = leafHash('b');
    const [lo, hi] = Buffer.compare(a, b) < 0 ? [a, b] : [b, a];
    expect(innerHash(a, b)).toEqual(sha(Buffer.from([1]), lo, hi));
    expect(innerHash(b, a)).toEqual(innerHash(a, b));
  });

  it('reproduces the worked 3-leaf example of the README', () => {
    const data = [{ invoice: 'INV-1', total: 120.5 }, { invoice: 'INV-2', total: 99 }, { invoice: 'INV-3', total: 7, currency: 'EUR' }];
    const t = new MerkleTree(data.map((d) => leafHash(d)));
    expect(t.levels[0].map(toHex)).toEqual([
      '0x29f85c4288029e2b97c53ef4aa6f75b81c2e73d2747ef8ff5442b5a3188d0230',
      '0x3be8ca7734402df652eb08721d95f6241c06912106425c45ed72474ec4f7c2a8',
      '0xc2168ba81bc289e78365c14d92ad98a6f5b44433d8bd04d1c63e48640e8e80ca',
    ]);
    expect(toHex(t.root)).toBe('0x53faf62e42c9a42252db538fef1d94d6b2652918aa12fc1eb7c63d3361e4cf59');
    expect(t.path(2).map((s) => ({ side: s.side, hash: toHex(s.hash) }))).toEqual([{ side: 'left', hash: '0x09911df488c999dc419556dd09293371b794da211feef421e4a2a63299f44b7f' }]);
  });

  it('gives a one-leaf batch root = leaf and an empty path', () => {
    const t = new MerkleTree([leafHash({ only: true })]);
    expect(t.root).toEqual(leafHash({ only: true }));
    expect(t.path(0)).toEqual([]);
  });

  it('promotes an odd node unchanged (3 leaves: root = H(H(l0,l1), l2))', () => {
    const l = [leafHash(1), leafHash(2), leafHash(3)];
    const t = new MerkleTree(l);
    expect(t.root).toEqual(innerHash(innerHash(l[0], l[1]), l[2]));
    expect(t.path(2).map((s) => s.hash)).toEqual([innerHash(l[0], l[1])]);
  });

  it('property: every proof of a random batch verifies, and any flipped bit in leaf, path or root fails', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue(), { minLength: 1, maxLength: 70 }), fc.nat(), fc.nat(), (items, pick, bit) => {
        const tree = new MerkleTree(items.map((d) => leafHash(d)));
        for (let i = 0; i < items.length; i++) {
          const p = proofFor(tree, i);
          const checks = verifyOffline(p, { data: items[i], hasData: true });
          if (!checks.every((c) => c.ok)) return false;
        }
        const i = pick % items.length;
        const p = proofFor(tree, i);
        const fields = [['leaf'], ['root'], ...p.path.map((_, k) => ['path', k])];
        const [field, k] = fields[bit % fields.length] as [string, number?];
        const flip = (h: string) => {
          const b = Buffer.from(h.slice(2), 'hex');
          b[(bit >> 3) % 32] ^= 1 << (bit % 8);
          return toHex(b);
        };
        const tampered = structuredClone(p);
        if (field === 'path') tampered.path[k!].hash = flip(tampered.path[k!].hash);
        else (tampered as unknown as Record<string, string>)[field] = flip((tampered as unknown as Record<string, string>)[field]);
        return verifyOffline(tampered).some((c) => !c.ok);
      }),
      { numRuns: 150 },
    );
  });

  it('never lets two different leaf sets share a root by duplication: [a,b,c] and [a,b,c,c] differ', () => {
    const [a, b, c] = [leafHash('a'), leafHash('b'), leafHash('c')];
    expect(new MerkleTree([a, b, c]).root).not.toEqual(new MerkleTree([a, b, c, c]).root);
  });

  it('builds 100,000 leaves and proves all of them', () => {
    const leaves = Array.from({ length: 100_000 }, (_, i) => leafHash({ i }));
    const t = new MerkleTree(leaves);
    for (const i of [0, 1, 65_535, 65_536, 99_999]) expect(rootFromPath(leaves[i], t.path(i))).toEqual(t.root);
    expect(t.path(99_999).length).toBeLessThanOrEqual(17);
  });
});

describe('proof file', () => {
  it('refuses a malformed proof, naming every bad field', () => {
    const bad = { v: 2, hash: 'sha1', leaf: '0xABC', path: [{ side: 'up', hash: '0x00' }], root: '0x' + '0'.repeat(64), anchor: { chain: 'btc', network: '', txHash: 'nope', block: -1, blockHash: '', contract: 'x', timestamp: 'yesterday' }, extra: 1 };
    try {
      parseProof(bad);
      throw new Error('accepted');
    } catch (err) {
      expect(err).toBeInstanceOf(ProofFormatError);
      const paths = (err as ProofFormatError).problems.map((p) => p.path);
      expect(paths).toEqual(expect.arrayContaining(['$.v', '$.hash', '$.leaf', '$.path[0].side', '$.path[0].hash', '$.anchor.chain', '$.anchor.network', '$.anchor.txHash', '$.anchor.block', '$.anchor.blockHash', '$.anchor.contract', '$.anchor.timestamp', '$.extra']));
    }
  });

  it('says which check failed: data that does not hash to the leaf', async () => {
    const tree = new MerkleTree([leafHash({ n: 1 }), leafHash({ n: 2 })]);
    const verdict = await verifyProof(proofFor(tree, 0), { data: { n: 3 }, hasData: true });
    expect(verdict.valid).toBe(false);
    expect(verdict.checks.find((c) => c.name === 'leaf')).toMatchObject({ ok: false, detail: expect.stringContaining('the data hashes to') });
    expect(verdict.checks.find((c) => c.name === 'path')).toMatchObject({ ok: true });
  });
});
