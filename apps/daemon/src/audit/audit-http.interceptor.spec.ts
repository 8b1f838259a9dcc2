import { describe, expect, it } from '@jest/globals';
import type { CallHandler, ExecutionContext } from '@nestjs/common';
import { of } from 'rxjs';
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
    ['/api/v1/executions/resume/:token', { token: 'secret-token' }, { executionId: 'e1' }, 'execution:e1'],
    ['/api/v1/executions/resume/:token', { token: 'secret-token' }, undefined, '/api/v1/executions/resume/:token'],
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
