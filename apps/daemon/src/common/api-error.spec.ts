import { describe, expect, it } from '@jest/globals';
import { BadRequestException, HttpException, NotFoundException, PayloadTooLargeException, ServiceUnavailableException } from '@nestjs/common';
import { EngineError } from '@anchorflow/engine';
import { ApiError, toHttpError } from './api-error.js';

describe('toHttpError', () => {
  it.each([
    ['VALIDATION_FAILED', 400],
    ['INVALID_INPUT', 400],
    ['NOT_FOUND', 404],
    ['CONFLICT', 409],
    ['EXECUTION_FINISHED', 409],
    ['SHUTTING_DOWN', 503],
    ['STORE_FAILED', 503],
  ] as const)('maps EngineError %s to %i with its code, message and details', (code, status) => {
    const mapped = toHttpError(new EngineError(code, 'why', [{ path: '$.x' }]));
    expect(mapped.status).toBe(status);
    expect(mapped.body).toEqual({ error: { code, message: 'why', details: [{ path: '$.x' }] } });
  });

  it('malformed JSON (body-parser cause) → 400 MALFORMED_JSON', () => {
    const cause = Object.assign(new SyntaxError('Unexpected end of JSON input'), { type: 'entity.parse.failed', status: 400 });
    expect(toHttpError(new BadRequestException('x', { cause }))).toMatchObject({ status: 400, body: { error: { code: 'MALFORMED_JSON' } }, unexpected: false });
  });

  it('oversized body → 413 PAYLOAD_TOO_LARGE with the limit', () => {
    const cause = { type: 'entity.too.large', limit: 1024, length: 5000 };
    expect(toHttpError(new PayloadTooLargeException('too large', { cause }))).toMatchObject({ status: 413, body: { error: { code: 'PAYLOAD_TOO_LARGE', details: { limit: 1024, length: 5000 } } } });
  });

  it('unknown route → 404 NOT_FOUND', () => {
    expect(toHttpError(new NotFoundException('Cannot GET /nope'))).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND', message: 'no such route: GET /nope' } } });
  });

  it('failed readiness check → 503 NOT_READY with the check results', () => {
    const result = { status: 'error', info: {}, error: { database: { status: 'down' } }, details: { database: { status: 'down' } } };
    expect(toHttpError(new ServiceUnavailableException(result))).toMatchObject({ status: 503, body: { error: { code: 'NOT_READY', details: result } } });
  });

  it('ApiError keeps its status and code; other HttpExceptions get a code from the status', () => {
    expect(toHttpError(new ApiError(405, 'METHOD_NOT_ALLOWED', 'use PUT', { allowed: ['PUT'] }))).toMatchObject({ status: 405, body: { error: { code: 'METHOD_NOT_ALLOWED', details: { allowed: ['PUT'] } } } });
    expect(toHttpError(new HttpException('slow down', 429))).toMatchObject({ status: 429, body: { error: { code: 'TOO_MANY_REQUESTS', message: 'slow down' } } });
  });

  it('a database that cannot be reached → 503 STORE_FAILED (the client may retry), also when it is the cause', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const shutdown = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
    for (const err of [refused, shutdown, new Error('query failed', { cause: refused }), new Error('Connection terminated unexpectedly')]) {
      expect(toHttpError(err)).toEqual({ status: 503, body: { error: { code: 'STORE_FAILED', message: 'the database is unavailable; retry later' } }, unexpected: false });
    }
    // a constraint violation is not an outage
    expect(toHttpError(Object.assign(new Error('duplicate key'), { code: '23505' })).status).toBe(500);
  });

  it('anything else → 500 INTERNAL without leaking the message, flagged for the log', () => {
    expect(toHttpError(new TypeError('secret internals'))).toEqual({ status: 500, body: { error: { code: 'INTERNAL', message: 'internal error; see the daemon log' } }, unexpected: true });
  });
});
