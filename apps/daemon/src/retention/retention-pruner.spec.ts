import { describe, expect, it } from '@jest/globals';
import { DAY_MS, pruneOnce, retentionEnabled } from './retention-pruner.js';
import type { RetentionStore } from './retention.port.js';

interface Row { id: string; workflowId: string; finished: boolean; startedAt: number; finishedAt?: number }

/** The rules on plain rows, as the SQL adapter implements them. */
class FakeRetentionStore implements RetentionStore {
  calls: string[] = [];
  constructor(public rows: Row[]) {}
  async pruneFinishedBefore(cutoff: Date, limit: number): Promise<number> {
    this.calls.push(`age:${limit}`);
    const doomed = this.rows.filter((r) => r.finished && r.finishedAt! < cutoff.getTime()).sort((a, b) => a.startedAt - b.startedAt).slice(0, limit);
    this.rows = this.rows.filter((r) => !doomed.includes(r));
    return doomed.length;
  }
  async workflowsOver(keep: number): Promise<string[]> {
    const counts = new Map<string, number>();
    for (const r of this.rows) if (r.finished) counts.set(r.workflowId, (counts.get(r.workflowId) ?? 0) + 1);
    return [...counts].filter(([, n]) => n > keep).map(([w]) => w);
  }
  async pruneWorkflowBeyond(workflowId: string, keep: number, limit: number): Promise<number> {
    this.calls.push(`count:${workflowId}:${limit}`);
    const doomed = this.rows.filter((r) => r.finished && r.workflowId === workflowId).sort((a, b) => b.startedAt - a.startedAt).slice(keep, keep + limit);
    this.rows = this.rows.filter((r) => !doomed.includes(r));
    return doomed.length;
  }
}

const NOW = Date.UTC(2026, 5, 1);
const row = (id: string, workflowId: string, ageDays: number, finished = true): Row => ({ id, workflowId, finished, startedAt: NOW - ageDays * DAY_MS - 1000, finishedAt: finished ? NOW - ageDays * DAY_MS : undefined });

describe('pruneOnce', () => {
  it('is off unless a limit is set', () => {
    expect(retentionEnabled({})).toBe(false);
    expect(retentionEnabled({ maxAgeDays: 1 })).toBe(true);
    expect(retentionEnabled({ maxPerWorkflow: 1 })).toBe(true);
  });

  it('deletes finished executions past the age in batches, and never unfinished ones', async () => {
    const store = new FakeRetentionStore([row('a1', 'A', 40), row('a2', 'A', 35), row('a3', 'A', 31), row('a4', 'A', 29), row('run', 'A', 90, false), row('b1', 'B', 45)]);
    const result = await pruneOnce(store, { maxAgeDays: 30, batchSize: 2 }, { now: () => NOW });
    expect(result).toMatchObject({ byAge: 4, byCount: 0 });
    expect(store.rows.map((r) => r.id).sort()).toEqual(['a4', 'run']);
    expect(store.calls).toEqual(['age:2', 'age:2', 'age:2']);
  });

  it('keeps the newest N finished executions per workflow', async () => {
    const store = new FakeRetentionStore([row('a1', 'A', 1), row('a2', 'A', 2), row('a3', 'A', 3), row('a4', 'A', 4), row('run', 'A', 9, false), row('b1', 'B', 5), row('b2', 'B', 6)]);
    const result = await pruneOnce(store, { maxPerWorkflow: 2, batchSize: 1 }, { now: () => NOW });
    expect(result).toMatchObject({ byAge: 0, byCount: 2, workflows: 1 });
    expect(store.rows.map((r) => r.id).sort()).toEqual(['a1', 'a2', 'b1', 'b2', 'run']);
  });

  it('stops between batches when asked (shutdown)', async () => {
    const store = new FakeRetentionStore(Array.from({ length: 10 }, (_, i) => row(`x${i}`, 'A', 40)));
    let batches = 0;
    const result = await pruneOnce(store, { maxAgeDays: 1, maxPerWorkflow: 1, batchSize: 2 }, { now: () => NOW, shouldStop: () => batches++ >= 2 });
    expect(result.byAge).toBe(4);
    expect(store.rows).toHaveLength(6);
  });
});
