import { describe, expect, it } from '@jest/globals';
import { ExecutionFinishedEvent, NodeSkippedEvent, type ExecutionEvent } from '@anchorflow/engine';
import { EngineEvents } from './engine-events.js';

const ID = '00000000-0000-4000-8000-000000000001';

describe('EngineEvents (the daemon fan-out of engine events)', () => {
  it('hands every event to every listener, in subscription order', () => {
    const events = new EngineEvents();
    const seen: string[] = [];
    events.subscribe((e) => seen.push(`a:${e.seq}`));
    events.subscribe((e) => seen.push(`b:${e.seq}`));
    events.publish(new NodeSkippedEvent(ID, 1, 0, 'n1'));
    events.publish(new ExecutionFinishedEvent(ID, 2, 0, 'succeeded'));
    expect(seen).toEqual(['a:1', 'b:1', 'a:2', 'b:2']);
  });

  it('logs a listener that throws and still reaches the others; the publisher never sees the error', () => {
    const errors: unknown[] = [];
    const events = new EngineEvents({ error: (fields: unknown) => void errors.push(fields) } as never);
    const seen: ExecutionEvent[] = [];
    events.subscribe(() => {
      throw new Error('boom');
    });
    events.subscribe((e) => seen.push(e));
    const event = new NodeSkippedEvent(ID, 1, 0, 'n1');
    expect(() => events.publish(event)).not.toThrow();
    expect(seen).toEqual([event]);
    expect(errors).toEqual([expect.objectContaining({ eventType: 'node.skipped', executionId: ID, err: expect.objectContaining({ message: 'boom' }) })]);
  });

  it('stops delivering after unsubscribe, also when a listener unsubscribes itself during a publish', () => {
    const events = new EngineEvents();
    const seen: string[] = [];
    const first = events.subscribe(() => {
      seen.push('first');
      first.unsubscribe();
    });
    events.subscribe(() => seen.push('second'));
    events.publish(new NodeSkippedEvent(ID, 1, 0, 'n1'));
    events.publish(new NodeSkippedEvent(ID, 2, 0, 'n2'));
    expect(seen).toEqual(['first', 'second', 'second']);
  });
});
