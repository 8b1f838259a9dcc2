import { describe, expect, it } from '@jest/globals';
import { defineNode } from '@anchorflow/plugin-sdk';
import { describeNodeType } from '@anchorflow/engine';
import { decodeAnnounce, decodeJob, decodeResult, decodeStateRequest, encodeMessage } from './messages.js';
import { natsNames } from './subjects.js';

const bytes = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));
const job = {
  v: 1, jobId: 'e1:n1:1:-', daemonId: 'd1', executionId: 'e1', workflowId: 'w1', nodeId: 'n1', nodeType: 'demo.echo',
  attempt: 1, idempotencyKey: 'e1:n1', params: { a: 1 }, input: { x: 1 }, publishedAt: 1, secret: 'sssssssssssssssssssssssssssssssssssssssssss',
};

describe('NATS wire format v1', () => {
  it('names subjects, stream, bucket and consumers by version and prefix', () => {
    const n = natsNames();
    expect(n.jobs('core.http')).toBe('anchorflow.v1.jobs.core.http');
    expect(n.results('daemon-1')).toBe('anchorflow.v1.results.daemon-1');
    expect(n.progress('daemon-1')).toBe('anchorflow.v1.progress.daemon-1');
    expect(n.rpc('daemon-1', 'state')).toBe('anchorflow.v1.rpc.daemon-1.state');
    expect(n.announce).toBe('anchorflow.v1.registry.announce');
    expect([n.jobsStream, n.resultsBucket, n.consumer('core.http')]).toEqual(['ANCHORFLOW_JOBS_V1', 'anchorflow_results_v1', 'jobs_core_http']);
    expect(natsNames('acme.prod').jobs('a.b')).toBe('acme.prod.v1.jobs.a.b');
    expect(() => n.results('daemon.1')).toThrow(/daemon id/);
    expect(() => n.jobs('core.*')).toThrow(/cannot be used in a subject/);
    expect(n.resultKey('exec:node.a:1:-')).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('accepts a valid job and round-trips it', () => {
    expect(decodeJob(encodeMessage(job))).toEqual({ ok: true, value: job });
  });

  it('rejects malformed jobs with a reason instead of throwing', () => {
    expect(decodeJob(bytes('not json'))).toMatchObject({ ok: false, reason: expect.stringContaining('job message is not JSON') });
    expect(decodeJob(new Uint8Array([0xff, 0xfe]))).toMatchObject({ ok: false, reason: expect.stringContaining('not JSON') });
    expect(decodeJob(bytes({ ...job, v: 2 }))).toMatchObject({ ok: false, reason: expect.stringContaining('$.v must be 1') });
    const r = decodeJob(bytes({ ...job, attempt: 0, params: [], nodeType: undefined, extra: true }));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toContain('$.nodeType is missing');
      expect(r.reason).toContain('$.attempt must be an integer >= 1');
      expect(r.reason).toContain('$.params must be an object');
      expect(r.reason).toContain('$.extra is not part of the message');
    }
    expect(decodeJob(bytes(null)).ok).toBe(false);
    expect(decodeJob(bytes([job])).ok).toBe(false);
  });

  it('validates results, including the error shape', () => {
    const base = { v: 1, jobId: 'j', secret: 'sssssssssssssssssssssssssssssssssssssssssss', workerId: 'w', delivery: 1, durationMs: 3, finishedAt: 4 };
    // a result without the job secret is not a result (issue 17)
    const { secret: _s, ...unsigned } = base;
    expect(decodeResult(bytes({ ...unsigned, outcome: { kind: 'output', outputs: {} } }))).toMatchObject({ ok: false, reason: expect.stringContaining('$.secret is missing') });
    expect(decodeResult(bytes({ ...base, outcome: { kind: 'output', outputs: { main: 1 } } })).ok).toBe(true);
    expect(decodeResult(bytes({ ...base, outcome: { kind: 'suspend', until: 5 } })).ok).toBe(true);
    expect(decodeResult(bytes({ ...base, outcome: { kind: 'error', error: { message: 'm', code: 'C', retryable: true } } })).ok).toBe(true);
    expect(decodeResult(bytes({ ...base, outcome: { kind: 'error', error: { message: 'm' } } }))).toMatchObject({ ok: false, reason: expect.stringContaining('$.outcome.error.code is missing') });
    expect(decodeResult(bytes({ ...base, outcome: { kind: 'maybe' } }))).toMatchObject({ ok: false, reason: expect.stringContaining('kind must be') });
  });

  it('keeps the valid node types of an announcement and says why the others were left out', () => {
    const good = { ...describeNodeType(defineNode({ type: 'demo.echo', version: 1, title: 'Echo', category: 'action', inputs: ['main'], outputs: ['main'], execute: () => ({}) })), plugin: 'demo' };
    const r = decodeAnnounce(bytes({ v: 1, workerId: 'w1', plugins: [{ name: 'demo', version: '1.0.0' }], nodeTypes: [good, { ...good, type: 'BAD TYPE' }], heartbeatMs: 1000, at: 1 }));
    expect(r.ok && r.value.nodeTypes.map((t) => t.type)).toEqual(['demo.echo']);
    expect(r.rejected).toEqual([{ type: 'BAD TYPE', reason: expect.stringContaining('must look like') }]);
  });

  it('validates state requests per operation', () => {
    expect(decodeStateRequest(bytes({ v: 1, jobId: 'j', secret: 'sssssssssssssssssssssssssssssssssssssssssss', op: 'cas', key: 'k', expect: 'f', value: 1 })).ok).toBe(true);
    expect(decodeStateRequest(bytes({ v: 1, jobId: 'j', secret: 'sssssssssssssssssssssssssssssssssssssssssss', op: 'drop', key: 'k' }))).toMatchObject({ ok: false, reason: expect.stringContaining('op must be') });
    expect(decodeStateRequest(bytes({ v: 1, jobId: 'j', secret: 'sssssssssssssssssssssssssssssssssssssssssss', op: 'get' }))).toMatchObject({ ok: false, reason: expect.stringContaining('$.key is missing') });
  });
});
