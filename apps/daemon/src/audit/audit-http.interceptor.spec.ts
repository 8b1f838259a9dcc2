import { describe, expect, it } from '@jest/globals';
import type { CallHandler, ExecutionContext } from '@nestjs/common';
import { firstValueFrom, of } from 'rxjs';
import { AuditHttpInterceptor, targetOf } from './audit-http.interceptor.js';
import type { AuditService } from './audit.service.js';

describe('targetOf', () => {
  it.each([
    ['/api/v1/workflows', {}, { id: 'w1', version: 1 }, 'workflow:w1'],
    ['/api/v1/workflows/:id', { id: 'w1' }, { id: 'w1', version: 2 }, 'workflow:w1'],
    ['/api/v1/workflows/:id', { id: 'w1' }, undefined, 'workflow:w1'],
    ['/api/v1/workflows/:id/activate', { id: 'w1' }, { id: 'w1' }, 'workflow:w1'],
    ['/api/v1/workflows/:id/executions', { id: 'w1' }, { executionId: 'e1' }, 'execution:e1'],
    ['/api/v1/workflows/:id/executions', { id: 'w1' }, { id: 'e1', status: 'succeeded' }, 'execution:e1'],
    ['/api/v1/executions/:id/cancel', { id: 'e1' }, { id: 'e1' }, 'execution:e1'],
    ['/api/v1/resume/:token', { token: 'secret-token' }, { executionId: 'e1' }, 'execution:e1'],
    ['/api/v1/resume/:token', { token: 'secret-token' }, undefined, '/api/v1/resume/:token'],
    ['/api/v1/keys', {}, { id: 'k1', secret: 'afk_…' }, 'key:k1'],
    ['/api/v1/keys/:id', { id: 'k1' }, undefined, 'key:k1'],
    ['/api/v1/credentials', {}, { id: 'c1' }, 'credential:c1'],
    ['/api/v1/auth/token', {}, { token: 'jwt' }, '/api/v1/auth/token'],
    ['/api/v1/workflows/layout', {}, { nodes: [] }, '/api/v1/workflows/layout'],
  ])('%s %j %j → %s', (route, params, result, expected) => {
    expect(targetOf(route, params as Record<string, string>, result as Record<string, unknown> | undefined)).toBe(expected);
  });
});

describe('AuditHttpInterceptor fails closed (issue 17)', () => {
  class WorkflowsController {}
  function create() {}
  const context = (method: string) => {
    const headers: Record<string, string> = {};
    const req = { method, originalUrl: '/api/v1/workflows', url: '/api/v1/workflows', params: {} };
    const res = { setHeader: (k: string, v: string) => void (headers[k] = v), json: () => undefined, once: () => undefined, statusCode: 200 };
    return { headers, ctx: { getType: () => 'http', switchToHttp: () => ({ getRequest: () => req, getResponse: () => res }), getHandler: () => create, getClass: () => WorkflowsController } as unknown as ExecutionContext };
  };
  const handled: string[] = [];
  const next: CallHandler = { handle: () => (handled.push('ran'), of({ id: 'w1' })) };

  it('refuses a state-changing request with 503 while the audit buffer is saturated, before the change runs', () => {
    const interceptor = new AuditHttpInterceptor({ writer: { saturated: true } } as unknown as AuditService);
    const { headers, ctx } = context('POST');
    expect(() => interceptor.intercept(ctx, next)).toThrow(expect.objectContaining({ status: 503, code: 'AUDIT_UNAVAILABLE' }));
    expect(headers['Retry-After']).toBe('5');
    expect(handled).toEqual([]);
    // reads are not audited and go through
    interceptor.intercept(context('GET').ctx, next);
    expect(handled).toEqual(['ran']);
  });
});

describe('AuditHttpInterceptor writes the attempt before the change (issue 17: never dropped)', () => {
  class CredentialsController {}
  function update() {}
  function setup(recordDurable: (fields: { action: string; target: string }) => Promise<void>) {
    const order: string[] = [];
    const outcomes: Array<{ action: string; target: string; details: Record<string, unknown> }> = [];
    const headers: Record<string, string> = {};
    let finish: (() => void) | undefined;
    const req = { method: 'PUT', originalUrl: '/api/v1/credentials/c1', url: '/api/v1/credentials/c1', baseUrl: '', route: { path: '/api/v1/credentials/:id' }, params: { id: 'c1' } };
    const res = {
      statusCode: 200,
      setHeader: (k: string, v: string) => void (headers[k] = v),
      json: (_body: unknown) => undefined,
      once: (event: string, fn: () => void) => void (event === 'finish' && (finish = fn)),
    };
    const ctx = { getType: () => 'http', switchToHttp: () => ({ getRequest: () => req, getResponse: () => res }), getHandler: () => update, getClass: () => CredentialsController } as unknown as ExecutionContext;
    const audit = {
      writer: { saturated: false, recordDurable: (f: { action: string; target: string }) => (order.push(`attempt ${f.action} ${f.target}`), recordDurable(f)) },
      record: (f: { action: string; target: string; details: Record<string, unknown> }) => void outcomes.push(f),
    };
    const interceptor = new AuditHttpInterceptor(audit as unknown as AuditService);
    const next: CallHandler = { handle: () => (order.push('change made'), of({ id: 'c1' })) };
    return { order, outcomes, headers, res, run: () => firstValueFrom(interceptor.intercept(ctx, next)), finish: () => finish?.() };
  }

  it('runs the handler only once the attempt entry is committed, then records the outcome', async () => {
    let commit!: () => void;
    const t = setup(() => new Promise<void>((resolve) => { commit = resolve; }));
    const answered = t.run();
    await new Promise((r) => setImmediate(r));
    // the change waits for its audit entry
    expect(t.order).toEqual(['attempt credentials.update.attempt credential:c1']);
    commit();
    await answered;
    expect(t.order).toEqual(['attempt credentials.update.attempt credential:c1', 'change made']);
    t.finish();
    expect(t.outcomes).toEqual([expect.objectContaining({ action: 'credentials.update', target: 'credential:c1', details: expect.objectContaining({ status: 200 }) })]);
  });

  it('refuses with 503 AUDIT_UNAVAILABLE and makes no change when the attempt entry cannot be committed', async () => {
    const t = setup(() => Promise.reject(new Error('the audit entry was not committed within 5000 ms')));
    await expect(t.run()).rejects.toMatchObject({ status: 503, code: 'AUDIT_UNAVAILABLE' });
    expect(t.headers['Retry-After']).toBe('5');
    expect(t.order).toEqual(['attempt credentials.update.attempt credential:c1']);
  });

  it('records a refused change as <action>.failed with its status, closing the attempt', async () => {
    const t = setup(() => Promise.resolve());
    await t.run();
    t.res.statusCode = 409;
    t.finish();
    expect(t.outcomes).toEqual([expect.objectContaining({ action: 'credentials.update.failed', target: 'credential:c1', details: expect.objectContaining({ status: 409, id: undefined }) })]);
  });
});
