import { describe, expect, it } from '@jest/globals';
import { ExecutionFinishedEvent, ExecutionStartedEvent, NodeFailedEvent, NodeSucceededEvent, NodeWaitingEvent } from '@anchorflow/engine';
import { appendEntry, canonicalJson, Redactor } from '@anchorflow/security';
import { auditedExecutionEvents, toAuditFields } from './audit-entries.js';
import { toStorableJson, toStorableString } from './storable-json.js';

describe('toAuditFields', () => {
  const redactor = new Redactor();

  it('maps execution events to small, data-free entries', () => {
    const started = toAuditFields(new ExecutionStartedEvent('e1', 1, Date.UTC(2026, 0, 1), 'w1', 3, { secretInput: 'x' }, 'start'), redactor);
    expect(started).toEqual({ actor: 'system', action: 'execution.started', target: 'execution:e1', at: new Date(Date.UTC(2026, 0, 1)), details: { seq: 1, workflowId: 'w1', workflowVersion: 3, triggerNodeId: 'start' } });
    const ok = toAuditFields(new NodeSucceededEvent('e1', 2, 1500, 'n', 1, { main: { big: 'output' } }, 1000), redactor);
    expect(ok).toMatchObject({ action: 'execution.node.succeeded', details: { seq: 2, nodeId: 'n', attempt: 1, durationMs: 500, ports: ['main'] } });
    const waiting = toAuditFields(new NodeWaitingEvent('e1', 3, 1000, 'n', 1, 900, undefined, 'resume-token-capability'), redactor);
    expect(JSON.stringify(waiting)).not.toContain('resume-token-capability');
    const finished = toAuditFields(new ExecutionFinishedEvent('e1', 4, 2000, 'failed', undefined, { code: 'X', message: 'boom', retryable: false, nodeId: 'n' }), redactor);
    expect(finished).toMatchObject({ action: 'execution.finished', details: { status: 'failed', error: { code: 'X', message: 'boom', nodeId: 'n' } } });
  });

  it('lists a turn\'s events of several executions in one entry, each under its execution, and reads every shape back', () => {
    const a = [new ExecutionStartedEvent('ea', 1, 1000, 'w1', 1, {}, 'start'), new NodeSucceededEvent('ea', 2, 1200, 'n', 1, { main: {} }, 1100)];
    const b = [new NodeFailedEvent('eb', 5, 1300, 'm', 2, { code: 'X', message: 'boom', retryable: true }, 1250)];
    const turn = toAuditFields([a, b], redactor);
    expect(turn).toEqual({
      actor: 'system', action: 'execution.events', target: 'executions', at: new Date(1000),
      details: { executions: [
        { executionId: 'ea', events: [
          { action: 'execution.started', seq: 1, workflowId: 'w1', workflowVersion: 1, triggerNodeId: 'start' },
          { action: 'execution.node.succeeded', seq: 2, nodeId: 'n', attempt: 1, durationMs: 100, ports: ['main'] },
        ] },
        { executionId: 'eb', events: [{ action: 'execution.node.failed', seq: 5, nodeId: 'm', attempt: 2, durationMs: 50, error: { code: 'X', message: 'boom', retryable: true } }] },
      ] },
    });
    // a turn of one execution keeps the one-execution shapes
    const one = toAuditFields([a], redactor);
    expect(one).toMatchObject({ action: 'execution.events', target: 'execution:ea', details: { events: [{ action: 'execution.started' }, { action: 'execution.node.succeeded' }] } });
    const single = toAuditFields(new ExecutionFinishedEvent('ea', 3, 1500, 'succeeded'), redactor);
    const api = toAuditFields({ actor: 'key:1', action: 'executions.start', target: 'execution:ea', details: { status: 201 } }, redactor);
    const entries = [api, turn, single].map((f) => ({ ...f, details: f.details as unknown }));
    expect(auditedExecutionEvents(entries, 'ea').map((e) => [e.action, e.seq])).toEqual([['execution.started', 1], ['execution.node.succeeded', 2], ['execution.finished', 3]]);
    expect(auditedExecutionEvents(entries, 'eb').map((e) => e.action)).toEqual(['execution.node.failed']);
    expect(auditedExecutionEvents(entries, 'nope')).toEqual([]);
  });

  it('redacts secrets before they can be hashed into the chain', () => {
    const r = new Redactor();
    r.addSecret('hunter2-credential-value');
    const failed = toAuditFields(new NodeFailedEvent('e1', 2, 2000, 'n', 1, { code: 'HTTP', message: 'login with hunter2-credential-value refused; Bearer abc.def.ghi', retryable: true }, 1000), r);
    const api = toAuditFields({ actor: 'key:1', action: 'credentials.create', target: 'credential:c', details: { params: { token: 'tok-123456' }, password: 'pw-123456' } }, r);
    const text = JSON.stringify([failed, api]);
    expect(text).not.toContain('hunter2-credential-value');
    expect(text).not.toContain('abc.def.ghi');
    expect(text).not.toContain('tok-123456');
    expect(text).not.toContain('pw-123456');
  });

  it('always produces details jsonb and canonical JSON accept', () => {
    const nasty = { nul: 'a\u0000b', lone: 'x\uD800y', [`k\u0000`]: 1, nan: NaN, big: 10n, when: new Date(0), fn: () => 1, nested: { a: [1, undefined, Infinity] } };
    const fields = toAuditFields({ actor: 'a', action: 'b', target: 'c', details: nasty }, new Redactor());
    expect(() => canonicalJson(fields.details)).not.toThrow();
    expect(JSON.stringify(fields.details)).not.toMatch(/\\u0000/);
    expect(fields.details).toEqual({ nul: 'a\uFFFDb', lone: 'x\uFFFDy', 'k\uFFFD': 1, nan: null, big: '10', when: '1970-01-01T00:00:00.000Z', nested: { a: [1, null, null] } });
    expect(() => appendEntry(undefined, fields)).not.toThrow();
  });

  it('repairs only what needs it in audited strings: NUL and lone surrogates, not surrogate pairs', () => {
    expect(toStorableString('node-1')).toBe('node-1');
    expect(toStorableString('a\u0000b')).toBe('a\uFFFDb');
    expect(toStorableString('x\uD800y\uDC00z')).toBe('x\uFFFDy\uFFFDz');
    expect(toStorableString('pair \uD83D\uDE00 ok')).toBe('pair \uD83D\uDE00 ok');
    expect(toStorableString('x'.repeat(10), 4)).toBe('xxxx…[6 more chars]');
  });

  it('bounds what one entry can hold', () => {
    const out = toStorableJson({ s: 'x'.repeat(5000), arr: Array.from({ length: 150 }, (_, i) => i) }) as { s: string; arr: unknown[] };
    expect(out.s.length).toBeLessThan(2100);
    expect(out.arr).toHaveLength(101);
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 40; i++) { deep.d = {}; deep = deep.d as Record<string, unknown>; }
    expect(JSON.stringify(toStorableJson(root))).toContain('[too deep]');
  });
});
