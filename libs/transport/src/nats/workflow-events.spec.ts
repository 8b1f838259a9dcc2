import { describe, expect, it } from '@jest/globals';
import { decodeWorkflowChanged, encodeWorkflowChanged, workflowChangedSubject } from './workflow-events.js';

describe('workflow change messages (v1)', () => {
  it('round-trips, on a versioned subject under the prefix', () => {
    const m = { workflowId: '0b7c6a1e-2f4d-4c8e-9a51-3c2d1e0f9a8b', version: 3, change: 'activated' as const, daemonId: 'host-1a2b3c4d', at: 1 };
    expect(decodeWorkflowChanged(encodeWorkflowChanged(m))).toEqual({ ok: true, value: { v: 1, ...m } });
    expect(workflowChangedSubject()).toBe('anchorflow.v1.workflows.changed');
    expect(workflowChangedSubject('tenant.a')).toBe('tenant.a.v1.workflows.changed');
  });

  it('rejects anything else with every reason', () => {
    const bad = new TextEncoder().encode(JSON.stringify({ v: 2, workflowId: 'a.b', version: -1, change: 'renamed', daemonId: 'x y', at: 'now', extra: 1 }));
    const r = decodeWorkflowChanged(bad);
    expect(r.ok).toBe(false);
    if (!r.ok) for (const field of ['$.v', '$.workflowId', '$.version', '$.change', '$.daemonId', '$.at', '$.extra']) expect(r.reason).toContain(field);
    expect(decodeWorkflowChanged(new Uint8Array([0xff]))).toMatchObject({ ok: false, reason: expect.stringContaining('not UTF-8 JSON') });
    expect(decodeWorkflowChanged(new TextEncoder().encode('[]'))).toEqual({ ok: false, reason: '$ must be an object' });
  });
});
