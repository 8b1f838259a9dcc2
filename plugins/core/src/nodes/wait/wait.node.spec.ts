import { describe, expect, it } from '@jest/globals';
import { runNode } from '@anchorflow/plugin-sdk/testing';
import { waitNode } from './wait.node.js';
import { MAX_WAIT_MS } from './wait.params.js';

describe('core.wait', () => {
  it('suspends until now + ms on its first run, holding nothing in memory', async () => {
    const before = Date.now();
    const result = await runNode(waitNode, { params: { ms: 60_000 }, input: { a: 1 } });
    const after = Date.now();
    expect(result.kind).toBe('suspend');
    if (result.kind !== 'suspend') return;
    expect(result.suspension.token).toBeUndefined();
    expect(result.suspension.until).toBeGreaterThanOrEqual(before + 60_000);
    expect(result.suspension.until).toBeLessThanOrEqual(after + 60_000);
  });

  it('passes the input on when resumed', async () => {
    const input = { a: 1 };
    const result = await runNode(waitNode, { params: { ms: 60_000 }, input, resume: { reason: 'timer', suspendedAt: Date.now() - 60_000 } });
    expect(result).toMatchObject({ kind: 'output', outputs: { main: input } });
  });

  it('passes the input on at once when ms is 0', async () => {
    expect(await runNode(waitNode, { params: { ms: 0 }, input: 'x' })).toMatchObject({ kind: 'output', outputs: { main: 'x' } });
  });

  it('accepts a wait of up to one year', async () => {
    expect(MAX_WAIT_MS).toBe(31_536_000_000);
    expect((await runNode(waitNode, { params: { ms: MAX_WAIT_MS } })).kind).toBe('suspend');
  });

  it.each<[string, unknown]>([
    ['missing', undefined],
    ['negative', -1],
    ['fractional', 1.5],
    ['longer than a year', MAX_WAIT_MS + 1],
    ['a string', '100'],
  ])('rejects ms that is %s at $.ms', async (_what, ms) => {
    await expect(runNode(waitNode, { params: ms === undefined ? {} : { ms } })).rejects.toMatchObject({ code: 'INVALID_PARAMS', details: expect.arrayContaining([expect.objectContaining({ path: '$.ms' })]) });
  });
});
