import { STATUS_CODES } from 'node:http';
import { HttpException } from '@nestjs/common';
import { EngineError, type EngineErrorCode } from '@anchorflow/engine';

/** The body of every error response. */
export interface ApiErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** An error the daemon itself raises with a precise status and code (engine errors stay EngineError). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** One problem with a request, with where it is. */
export interface RequestProblem {
  path: string;
  message: string;
}

export const ENGINE_ERROR_STATUS: Record<EngineErrorCode, number> = {
  VALIDATION_FAILED: 400,
  INVALID_INPUT: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  EXECUTION_FINISHED: 409,
  SHUTTING_DOWN: 503,
  STORE_FAILED: 503,
};

const STATUS_CODE_NAMES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  408: 'REQUEST_TIMEOUT',
  409: 'CONFLICT',
  411: 'LENGTH_REQUIRED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'UNPROCESSABLE_ENTITY',
  429: 'TOO_MANY_REQUESTS',
  500: 'INTERNAL',
  503: 'SERVICE_UNAVAILABLE',
};

export interface MappedError {
  status: number;
  body: ApiErrorBody;
  /** an unexpected failure: log it with its stack */
  unexpected: boolean;
}

function body(code: string, message: string, details?: unknown): ApiErrorBody {
  return { error: { code, message, ...(details !== undefined ? { details } : {}) } };
}

/** body-parser / http-errors shape carried as the cause of Nest's mapped HttpException */
interface HttpErrorLike {
  type?: string;
  status?: number;
  statusCode?: number;
  limit?: number;
  length?: number;
  message?: string;
}

function fromHttpException(exception: HttpException): MappedError {
  const status = exception.getStatus();
  const cause = (exception.cause ?? {}) as HttpErrorLike;
  const response = exception.getResponse();
  if (cause.type === 'entity.too.deep') {
    return { status: 400, body: body('JSON_TOO_DEEP', cause.message ?? 'request body nests too deeply', { maxDepth: (cause as { maxDepth?: number }).maxDepth }), unexpected: false };
  }
  if (cause.type === 'entity.parse.failed') {
    return { status: 400, body: body('MALFORMED_JSON', `request body is not valid JSON: ${cause.message ?? 'parse error'}`), unexpected: false };
  }
  if (status === 413) {
    const limit = typeof cause.limit === 'number' ? ` of ${cause.limit} bytes` : '';
    return { status, body: body('PAYLOAD_TOO_LARGE', `request body exceeds the limit${limit}`, { limit: cause.limit, length: cause.length }), unexpected: false };
  }
  if (status === 503 && typeof response === 'object' && response !== null && 'status' in response && 'details' in response) {
    // @nestjs/terminus: a readiness check failed
    return { status, body: body('NOT_READY', 'a dependency is not ready', response), unexpected: false };
  }
  let message = exception.message;
  let details: unknown;
  if (typeof response === 'object' && response !== null) {
    const m = (response as { message?: unknown }).message;
    if (typeof m === 'string') message = m;
    else if (Array.isArray(m)) {
      message = m.join('; ');
      details = m;
    }
  }
  if (status === 404 && /^Cannot [A-Z]+ /.test(message)) message = `no such route: ${message.slice('Cannot '.length)}`;
  const code = STATUS_CODE_NAMES[status] ?? (status >= 500 ? 'INTERNAL' : 'BAD_REQUEST');
  return { status, body: body(code, message || STATUS_CODES[status] || 'error', details), unexpected: status >= 500 && status !== 503 };
}

/** Maps anything thrown while serving a request to an HTTP status and the uniform error body. */
export function toHttpError(exception: unknown): MappedError {
  if (exception instanceof EngineError) {
    const status = ENGINE_ERROR_STATUS[exception.code] ?? 500;
    return { status, body: body(exception.code, exception.message, exception.details), unexpected: exception.code === 'STORE_FAILED' || status === 500 };
  }
  if (exception instanceof ApiError) {
    return { status: exception.status, body: body(exception.code, exception.message, exception.details), unexpected: exception.status >= 500 };
  }
  if (exception instanceof HttpException) return fromHttpException(exception);
  if (isDatabaseUnavailable(exception)) {
    return { status: 503, body: body('STORE_FAILED', 'the database is unavailable; retry later'), unexpected: false };
  }
  return { status: 500, body: body('INTERNAL', 'internal error; see the daemon log'), unexpected: true };
}

/** socket errors, SQLSTATE class 08 (connection exception) and 57P01-57P03 (server shutting down / starting) */
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', '57P01', '57P02', '57P03']);

/**
 * Whether an error (or one of its causes) says the database cannot be reached: an outage is a 503 the
 * client may retry (ARCHITECTURE: STORE_FAILED), not an internal error.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 6; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, name, message } = e as { code?: unknown; name?: unknown; message?: unknown };
    if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true;
    if (name === 'ConnectionException') return true;
    if (typeof message === 'string' && /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect/.test(message)) return true;
  }
  return false;
}
