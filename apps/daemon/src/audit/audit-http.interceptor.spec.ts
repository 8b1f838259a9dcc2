import { describe, expect, it } from '@jest/globals';
import { targetOf } from './audit-http.interceptor.js';

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
