import { describe, expect, it } from '@jest/globals';
import { ExecutionWatchers, foldState, type LiveMessage, preview, RateLimiter, RecentEvents, toLiveMessage } from './live-executions.js';

const ev = (seq: number, type: string, extra: Record<string, unknown> = {}) => ({ executionId: 'e1', seq, at: 1000 + seq, type, ...extra });
const history = [
  ev(1, 'execution.started', { workflowId: 'w1', workflowVersion: 2, input: {} }),
  ev(2, 'node.succeeded', { nodeId: 'start', attempt: 1, output: { main: { a: 1 } }, startedAt: 1001 }),
  ev(3, 'node.started', { nodeId: 'b', attempt: 1 }),
  ev(4, 'node.failed', { nodeId: 'b', attempt: 1, error: { message: 'boom' }, startedAt: 1003, retryAt: 9999 }),
  ev(5, 'node.started', { nodeId: 'b', attempt: 2 }),
  ev(6, 'node.succeeded', { nodeId: 'b', attempt: 2, output: { main: 'x'.repeat(5000) }, startedAt: 1005 }),
  ev(7, 'execution.finished', { status: 'succeeded', output: { b: 1 } }),
];

describe('toLiveMessage / foldState', () => {
  it('maps every engine event to a v:1 socket message with its seq, previews capped', () => {
    const ms = history.map(toLiveMessage) as LiveMessage[];
    expect(ms.map((m) => [m.event, m.seq])).toEqual([['execution:started', 1], ['node:status', 2], ['node:status', 3], ['node:status', 4], ['node:status', 5], ['node:status', 6], ['execution:finished', 7]]);
    expect(ms[1]!.data).toEqual({ v: 1, executionId: 'e1', seq: 2, nodeId: 'start', status: 'succeeded', attempt: 1, startedAt: 1001, finishedAt: 1002, outputPreview: { main: { a: 1 } } });
    expect(ms[3]!.data).toMatchObject({ status: 'retrying', retryAt: 9999, error: { message: 'boom' } });
    expect(ms[5]!.data).toMatchObject({ outputPreview: { truncated: true, chars: 5011, preview: expect.stringMatching(/^\{"main":"xxx/) } });
    expect((preview({ big: 'y'.repeat(3000) }) as { preview: string }).preview).toHaveLength(2048);
  });

  it('folds the history into the state a late watcher gets', () => {
    const s = foldState('e1', history.slice(0, 5).map((e) => toLiveMessage(e)!));
    expect(s).toMatchObject({ v: 1, executionId: 'e1', seq: 5, workflowId: 'w1', status: 'running' });
    expect(s.nodes.map((n) => [n.nodeId, n.status, n.attempt])).toEqual([['start', 'succeeded', 1], ['b', 'running', 2]]);
    expect(foldState('e1', [...history.slice(3), ...history].map((e) => toLiveMessage(e)!)).status).toBe('succeeded'); // duplicates, any order
  });
});

describe('ExecutionWatchers', () => {
  it('a late watcher gets held live events after its state: no gap, no duplicate, in order', () => {
    const got: Array<[string, number]> = [];
    const watchers = new ExecutionWatchers<string>((w, m) => got.push([w, m.seq]));
    const msgs = history.map((e) => toLiveMessage(e)!);
    watchers.watch('e1', 'early');
    watchers.ready('e1', 'early', 0);
    watchers.publish(msgs[0]!);
    watchers.publish(msgs[1]!);
    watchers.watch('e1', 'late'); // joins; its state load will include up to seq 3
    watchers.publish(msgs[3]!); // seq 4 arrives while loading (out of order with seq 3)
    watchers.publish(msgs[2]!);
    watchers.ready('e1', 'late', 3);
    watchers.publish(msgs[3]!); // relayed twice (cluster): dropped
    watchers.publish(msgs[4]!);
    expect(got.filter(([w]) => w === 'late').map(([, s]) => s)).toEqual([4, 5]);
    expect(got.filter(([w]) => w === 'early').map(([, s]) => s)).toEqual([1, 2, 4, 5]); // 3 came late for it: not resent after 4
    watchers.unwatchAll('late');
    expect(watchers.watcherCount('e1')).toBe(1);
  });

  it('hands a message due to several watchers over at once when it can', () => {
    const batches: string[][] = [];
    const single: string[] = [];
    const watchers = new ExecutionWatchers<string>((w) => single.push(w), (ws) => batches.push(ws));
    for (const w of ['a', 'b', 'c']) {
      watchers.watch('e1', w);
      watchers.ready('e1', w, w === 'c' ? 2 : 0);
    }
    watchers.publish(toLiveMessage(history[1]!)!); // seq 2: c has it already
    watchers.publish(toLiveMessage(history[2]!)!);
    expect(batches).toEqual([['a', 'b'], ['a', 'b', 'c']]);
    expect(single).toEqual([]);
  });
});

describe('RateLimiter', () => {
  it('allows a burst, then the rate', () => {
    let t = 0;
    const r = new RateLimiter(10, 3, () => t);
    expect([r.take(), r.take(), r.take(), r.take()]).toEqual([true, true, true, false]);
    t += 100;
    expect([r.take(), r.take()]).toEqual([true, false]);
  });
});

describe('RecentEvents', () => {
  it('keeps each execution’s events for a few seconds, bounded', () => {
    let t = 0;
    const recent = new RecentEvents(1000, 3, 2, () => t);
    recent.add(history[0]!);
    t = 500;
    recent.add(history[1]!);
    expect(recent.of('e1').map((e) => e.seq)).toEqual([1, 2]);
    t = 1200;
    expect(recent.of('e1').map((e) => e.seq)).toEqual([2]);
    for (const e of history.slice(2, 6)) recent.add(e);
    expect(recent.of('e1').map((e) => e.seq)).toEqual([4, 5, 6]); // at most 3
    recent.add({ ...history[0]!, executionId: 'e2' });
    recent.add({ ...history[0]!, executionId: 'e3' }); // at most 2 executions: the oldest goes
    expect([recent.of('e1').length, recent.of('e2').length, recent.of('e3').length]).toEqual([0, 1, 1]);
  });
});

describe('RecentEvents when full', () => {
  it('sweeps out expired executions at most once a second, and otherwise lets the oldest go', () => {
    let t = 0;
    const recent = new RecentEvents(1000, 10, 2, () => t);
    recent.add({ ...history[0]!, executionId: 'e1' });
    recent.add({ ...history[0]!, executionId: 'e2' });
    t = 2000; // both expired: the sweep takes them, e3 joins
    recent.add({ ...history[0]!, executionId: 'e3' });
    expect(recent.size).toBe(1);
    recent.add({ ...history[0]!, executionId: 'e4' });
    t = 2100; // full again, no sweep within the second: the oldest (e3) goes
    recent.add({ ...history[0]!, executionId: 'e5' });
    expect([recent.of('e3').length, recent.of('e4').length, recent.of('e5').length]).toEqual([0, 1, 1]);
  });
});
