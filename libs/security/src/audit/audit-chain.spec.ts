import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { appendEntry, GENESIS_HASH, hashEntry, verifyChain, type AuditEntry, type AuditFields } from './audit-chain.js';
import { catchSecurityError } from '../spec-support/errors.js';

const t0 = Date.parse('2025-06-01T12:00:00.000Z');

function fields(i: number): AuditFields {
  return {
    at: new Date(t0 + i * 1000),
    actor: i % 3 === 0 ? 'system' : `key:${(i % 7).toString(16).padStart(16, '0')}`,
    action: i % 2 ? 'execution.node.succeeded' : 'workflow.update',
    target: `execution:${i}`,
    details: { i, nodeId: `n${i}`, output: { ok: true, amount: i * 1.5 } },
  };
}

function chain(n: number): AuditEntry[] {
  const out: AuditEntry[] = [];
  for (let i = 1; i <= n; i++) out.push(appendEntry(out.at(-1), fields(i)));
  return out;
}

/** A fresh, editable copy, like rows read back from the database. */
const rows = (entries: AuditEntry[]): AuditEntry[] => JSON.parse(JSON.stringify(entries));

describe('appendEntry / hashEntry', () => {
  it('starts at seq 1 on the genesis hash and hashes the canonical JSON of every field but hash', () => {
    const first = appendEntry(undefined, { at: new Date(t0), actor: 'system', action: 'daemon.start', target: 'daemon:a', details: { b: 1, a: 'x' } });
    expect(first).toMatchObject({ seq: 1, prevHash: GENESIS_HASH, at: '2025-06-01T12:00:00.000Z' });
    expect(GENESIS_HASH).toBe('0'.repeat(64));
    // Written out by hand, so the preimage is pinned independently of canonicalJson.
    const preimage =
      '{"action":"daemon.start","actor":"system","at":"2025-06-01T12:00:00.000Z","details":{"a":"x","b":1},' +
      `"prevHash":"${'0'.repeat(64)}","seq":1,"target":"daemon:a"}`;
    expect(first.hash).toBe(createHash('sha256').update(preimage).digest('hex'));
    expect(hashEntry(first)).toBe(first.hash);
  });

  it('links each entry to the previous one', () => {
    const [a, b, c] = chain(3);
    expect([b.seq, b.prevHash, c.seq, c.prevHash]).toEqual([2, a.hash, 3, b.hash]);
  });

  it('ignores fields a store adds (row id, createdAt) when hashing', () => {
    const [a] = chain(1);
    expect(hashEntry({ ...a, id: 'row-1', createdAt: new Date() } as AuditEntry)).toBe(a.hash);
  });

  it('normalizes details to their JSON form, so later mutation by the caller cannot desync the hash', () => {
    const details: Record<string, unknown> = { when: new Date(t0), dropped: undefined, list: [1] };
    const entry = appendEntry(undefined, { actor: 'system', action: 'x.y', target: 't', details });
    expect(entry.details).toEqual({ when: '2025-06-01T12:00:00.000Z', list: [1] });
    (details.list as number[]).push(2);
    expect(hashEntry(entry)).toBe(entry.hash);
    expect(appendEntry(undefined, { actor: 'a', action: 'b', target: 'c' }).details).toBeNull();
  });

  it('refuses entries it could not hash or that lack who/what/target', () => {
    catchSecurityError(() => appendEntry(undefined, { actor: 'a', action: 'b', target: 'c', details: { n: NaN } }), 'CANONICAL_JSON_INVALID');
    catchSecurityError(() => appendEntry(undefined, { actor: '', action: 'b', target: 'c' }), 'INVALID_ARGUMENT');
    catchSecurityError(() => appendEntry(undefined, { actor: 'a', action: 'b', target: 'c', at: new Date(NaN) }), 'INVALID_ARGUMENT');
  });
});

describe('verifyChain', () => {
  const entries = chain(100);

  it('accepts an intact chain and reports its head', async () => {
    await expect(verifyChain(rows(entries))).resolves.toEqual({ ok: true, count: 100, head: { seq: 100, hash: entries[99].hash } });
  });

  it('accepts an empty chain', async () => {
    await expect(verifyChain([])).resolves.toEqual({ ok: true, count: 0, head: null });
  });

  it.each<[string, (e: AuditEntry) => void]>([
    ['details', (e) => ((e.details as Record<string, unknown>).i = 5700)],
    ['nested details', (e) => (((e.details as Record<string, unknown>).output as Record<string, unknown>).ok = false)],
    ['actor', (e) => (e.actor = 'key:attacker')],
    ['action', (e) => (e.action = 'workflow.read')],
    ['target', (e) => (e.target = 'execution:1')],
    ['at (one millisecond)', (e) => (e.at = e.at.replace('.000Z', '.001Z'))],
    ['hash', (e) => (e.hash = createHash('sha256').update('forged').digest('hex'))],
  ])('tampering with %s of entry 57 breaks the chain at 57 (hash-mismatch)', async (_label, tamper) => {
    const copy = rows(entries);
    tamper(copy[56]);
    await expect(verifyChain(copy)).resolves.toMatchObject({
      ok: false,
      brokenAt: 57,
      reason: 'hash-mismatch',
      count: 56,
      lastGood: { seq: 56, hash: entries[55].hash },
    });
  });

  it('a tampered entry whose hash was recomputed is caught at the next link (prev-mismatch at 58)', async () => {
    const copy = rows(entries);
    copy[56].actor = 'key:attacker';
    copy[56].hash = hashEntry(copy[56]);
    await expect(verifyChain(copy)).resolves.toMatchObject({ ok: false, brokenAt: 58, reason: 'prev-mismatch', count: 57 });
  });

  it('an edited prevHash is a prev-mismatch at that entry', async () => {
    const copy = rows(entries);
    copy[56].prevHash = GENESIS_HASH;
    await expect(verifyChain(copy)).resolves.toMatchObject({ ok: false, brokenAt: 57, reason: 'prev-mismatch' });
  });

  it('a deleted entry is a seq-gap at its successor', async () => {
    const copy = rows(entries);
    copy.splice(56, 1);
    await expect(verifyChain(copy)).resolves.toMatchObject({ ok: false, brokenAt: 58, reason: 'seq-gap', message: 'expected seq 57, found 58' });
  });

  it('deleting the head of the chain, or the genesis entry, is detected', async () => {
    const copy = rows(entries);
    copy.shift();
    await expect(verifyChain(copy)).resolves.toMatchObject({ ok: false, brokenAt: 2, reason: 'seq-gap' });
  });

  it('reordered, duplicated or renumbered entries are seq-gaps', async () => {
    const swapped = rows(entries);
    [swapped[10], swapped[11]] = [swapped[11], swapped[10]];
    await expect(verifyChain(swapped)).resolves.toMatchObject({ ok: false, brokenAt: 12, reason: 'seq-gap' });
    const duplicated = rows(entries);
    duplicated.splice(20, 0, duplicated[19]);
    await expect(verifyChain(duplicated)).resolves.toMatchObject({ ok: false, brokenAt: 20, reason: 'seq-gap' });
    const renumbered = rows(entries);
    (renumbered[4] as unknown as { seq: string }).seq = '5';
    await expect(verifyChain(renumbered)).resolves.toMatchObject({ ok: false, brokenAt: '5', reason: 'seq-gap' });
  });

  it('a rewritten genesis (first prevHash not zeros) is a prev-mismatch at 1', async () => {
    const copy = rows(entries);
    copy[0].prevHash = 'f'.repeat(64);
    copy[0].hash = hashEntry(copy[0]);
    await expect(verifyChain(copy)).resolves.toMatchObject({ ok: false, brokenAt: 1, reason: 'prev-mismatch' });
  });

  it('reports the FIRST broken link when there are several', async () => {
    const copy = rows(entries);
    copy[79].actor = 'x';
    copy[56].action = 'y';
    copy[30].target = 'z';
    await expect(verifyChain(copy)).resolves.toMatchObject({ ok: false, brokenAt: 31 });
  });

  it('verifies a suffix from a trusted head (an anchored checkpoint)', async () => {
    const head = { seq: 50, hash: entries[49].hash };
    await expect(verifyChain(rows(entries).slice(50), { after: head })).resolves.toEqual({ ok: true, count: 50, head: { seq: 100, hash: entries[99].hash } });
    await expect(verifyChain(rows(entries).slice(50), { after: { seq: 50, hash: entries[48].hash } })).resolves.toMatchObject({ ok: false, brokenAt: 51, reason: 'prev-mismatch' });
    await expect(verifyChain(rows(entries).slice(51), { after: head })).resolves.toMatchObject({ ok: false, brokenAt: 52, reason: 'seq-gap' });
  });

  it('streams an async iterable lazily and stops reading at the first break', async () => {
    let pulled = 0;
    let closed = false;
    async function* page(): AsyncGenerator<AuditEntry> {
      try {
        for (const e of rows(entries)) {
          pulled++;
          if (e.seq === 57) e.details = { tampered: true };
          yield e;
        }
      } finally {
        closed = true;
      }
    }
    await expect(verifyChain(page())).resolves.toMatchObject({ ok: false, brokenAt: 57 });
    expect(pulled).toBe(57);
    expect(closed).toBe(true);
  });

  it('verifies a chain produced on the fly, holding one entry at a time', async () => {
    const n = 3_000;
    async function* generate(): AsyncGenerator<AuditEntry> {
      let prev: AuditEntry | undefined;
      for (let i = 1; i <= n; i++) {
        prev = appendEntry(prev, { at: new Date(t0 + i), actor: 'system', action: 'tick', target: 'clock', details: { i } });
        yield prev;
      }
    }
    const result = await verifyChain(generate());
    expect(result).toMatchObject({ ok: true, count: n, head: { seq: n } });
  });
});
