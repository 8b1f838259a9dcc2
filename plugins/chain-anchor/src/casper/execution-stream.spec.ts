/**
 * ExecutionStream's bookkeeping, driven through the follower callbacks it is given (the stream itself is
 * covered against the fake sidecar in casper-stream.spec.ts): when a result is "covered" by the stream,
 * when coverage breaks, and what is stored to resume from.
 */
import { describe, expect, it } from '@jest/globals';
import { MemoryPluginState } from '@anchorflow/plugin-sdk/testing';
import { quietLogger } from '../spec-support/harness.js';
import { checkpointKey, ExecutionStream, type StreamCheckpoint } from './execution-stream.js';
import type { FollowOptions } from './sse-follower.js';

const TX = 'aa'.repeat(32);
const BLOCK = 'bb'.repeat(32);

function scripted(state = new MemoryPluginState(), clock = { t: 0 }) {
  let follower: FollowOptions | undefined;
  const calls: Array<number | undefined> = [];
  const activity: string[] = [];
  const stream = new ExecutionStream({
    network: 'cas',
    state,
    logger: quietLogger(),
    now: () => clock.t,
    onActivity: () => void activity.push('wake'),
    follow: async (opts) => {
      follower = opts;
      calls.push(opts.lastEventId);
      await new Promise<void>((resolve) => opts.signal.addEventListener('abort', () => resolve(), { once: true }));
    },
  });
  const f = () => follower!;
  const event = (id: number, kind?: 'processed' | 'block') => {
    if (kind === 'processed') f().onProcessed({ txHash: TX, blockHash: BLOCK, eventId: id });
    if (kind === 'block') f().onBlockAdded!({ blockHash: BLOCK, height: 7, parentHash: 'cc'.repeat(32), timestamp: '2026-12-07T10:00:00.000Z', eventId: id });
    f().onEventId!(id);
  };
  return { stream, state, clock, calls, activity, f, event };
}

describe('ExecutionStream', () => {
  it('an epoch begins at the first connection; a transaction covered by it is not polled; the result is kept for the driver', async () => {
    const s = scripted();
    await s.stream.start();
    expect(s.stream.epoch).toBeUndefined(); // not connected yet: nothing is covered
    s.f().onConnected!(undefined);
    const epoch = s.stream.epoch!;
    expect(epoch).toMatch(/^[0-9a-f]{16}$/);
    s.stream.watch(TX);
    s.event(10, 'block');
    s.event(11, 'processed');
    expect(s.stream.covers(epoch)).toBe(true);
    expect(s.stream.processedEvent(TX)).toMatchObject({ blockHash: BLOCK, eventId: 11 });
    expect(s.stream.block(BLOCK)).toMatchObject({ height: 7 });
    expect(s.stream.tip).toBe(7);
    expect(s.activity.length).toBeGreaterThanOrEqual(2); // connected, block and the watched result each wake the batcher
    s.stream.close();
  });

  it('a cut keeps the epoch (the follower resumes from the next id); a gap in the ids starts a new one', async () => {
    const s = scripted();
    await s.stream.start();
    s.f().onConnected!(undefined);
    const epoch = s.stream.epoch!;
    s.event(1);
    s.f().onDisconnected!(new Error('cut'));
    expect(s.stream.covers(epoch)).toBe(true); // down briefly: still covering, nothing polled
    expect(s.stream.tip).toBeUndefined(); // a tip from a cut stream is not trusted
    s.f().onConnected!(2);
    s.event(2);
    expect(s.stream.epoch).toBe(epoch);
    s.event(9); // 3…8 never came: the sidecar's buffer had moved on
    expect(s.stream.epoch).not.toBe(epoch);
    expect(s.stream.covers(epoch)).toBe(false);
    s.stream.close();
  });

  it('unavailable after two failed connects in a row, or after the grace time down', async () => {
    const s = scripted();
    await s.stream.start();
    s.f().onConnected!(undefined);
    const epoch = s.stream.epoch!;
    s.f().onDisconnected!(new Error('cut'));
    expect(s.stream.unavailable).toBe(false);
    s.clock.t += 5_001;
    expect(s.stream.unavailable).toBe(true);
    expect(s.stream.covers(epoch)).toBe(false);
    s.f().onConnected!(2);
    expect(s.stream.unavailable).toBe(false);
    s.f().onDisconnected!(new Error('refused'));
    s.f().onDisconnected!(new Error('refused'));
    expect(s.stream.unavailable).toBe(true);
    s.stream.close();
  });

  it('stores {lastEventId, epoch} only when asked, at most once a second, and a new instance resumes from it in the same epoch', async () => {
    const s = scripted();
    await s.stream.start();
    s.f().onConnected!(undefined);
    const epoch = s.stream.epoch!;
    s.event(41);
    expect(await s.state.get(checkpointKey('cas'))).toBeUndefined(); // events alone store nothing
    await s.stream.checkpoint(s.stream.position);
    expect(await s.state.get<StreamCheckpoint>(checkpointKey('cas'))).toEqual({ lastEventId: 41, epoch });
    s.event(42);
    await s.stream.checkpoint(s.stream.position);
    expect((await s.state.get<StreamCheckpoint>(checkpointKey('cas')))!.lastEventId).toBe(41); // throttled
    s.clock.t += 1_000;
    await s.stream.checkpoint(s.stream.position);
    expect((await s.state.get<StreamCheckpoint>(checkpointKey('cas')))!.lastEventId).toBe(42);
    s.stream.close();

    const again = scripted(s.state, s.clock);
    await again.stream.start();
    expect(again.calls).toEqual([42]); // the follower resumes after the stored id
    expect(again.stream.covers(epoch)).toBe(true); // the same epoch: what was covered stays covered
    again.f().onConnected!(43);
    again.event(43);
    expect(again.stream.epoch).toBe(epoch);
    again.stream.close();
  });
});
