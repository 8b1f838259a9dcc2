import { describe, expect, it } from '@jest/globals';
import { decodeExecutionEvent, decodeWorkflowPatched, encodeExecutionEvent, encodeWorkflowPatched, executionEventsSubject, workflowPatchedSubject } from './editor-events.js';

describe('editor cluster messages (v1)', () => {
  it('subjects carry the wire version and refuse ids that would break a subject', () => {
    expect(executionEventsSubject('e-1')).toBe('anchorflow.v1.events.execution.e-1');
    expect(workflowPatchedSubject('w_1', 'test.x')).toBe('test.x.v1.events.workflow.w_1');
    expect(() => executionEventsSubject('a.b')).toThrow('cannot be used in a subject');
  });

  it('round-trips, and names what is wrong in a malformed message', () => {
    const event = { type: 'node.started', executionId: 'e1', seq: 3, at: 5, nodeId: 'n', attempt: 1 };
    expect(decodeExecutionEvent(encodeExecutionEvent({ daemonId: 'd1', event }))).toEqual({ ok: true, value: { v: 1, daemonId: 'd1', event } });
    const bad = decodeExecutionEvent(new TextEncoder().encode(JSON.stringify({ v: 2, daemonId: 'd 1', event: { type: 'x', executionId: 'e1', seq: 0, at: 1 }, more: 1 })));
    expect(bad).toEqual({ ok: false, reason: '$.v must be 1; $.daemonId must be letters, digits, _ and - only; $.event.type must be an execution event type; $.event.seq must be an integer >= 1; $.more is not part of the message' });
    expect(decodeExecutionEvent(new Uint8Array([0xff]))).toMatchObject({ ok: false, reason: expect.stringContaining('not UTF-8 JSON') });
    const patched = { daemonId: 'd1', workflowId: 'w1', version: 2, by: 'key:abc', ops: [{ op: 'rename', name: 'x' }], problems: [] };
    expect(decodeWorkflowPatched(encodeWorkflowPatched(patched))).toEqual({ ok: true, value: { v: 1, ...patched } });
    expect(decodeWorkflowPatched(new TextEncoder().encode('{"v":1}'))).toMatchObject({ ok: false, reason: expect.stringContaining('$.workflowId must be an id') });
  });
});
