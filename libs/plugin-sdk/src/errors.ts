/**
 * Errors a node throws to tell the engine what to do next.
 * - NodeError: the input or the configuration is wrong; retrying cannot help.
 * - TransientNodeError: the outside world failed (5xx, timeout, RPC down); the retry policy applies.
 * Any other error is treated as transient (retried), because a plugin that did not classify its
 * failure cannot promise that a retry would be useless.
 */
export class NodeError extends Error {
  readonly retryable: boolean = false;
  constructor(
    message: string,
    readonly code: string = 'NODE_ERROR',
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'NodeError';
  }
}

export class TransientNodeError extends NodeError {
  override readonly retryable: boolean = true;
  constructor(
    message: string,
    code = 'TRANSIENT',
    details?: unknown,
    options?: {
      cause?: unknown;
      /** the remote asked us to wait at least this long (e.g. Retry-After): the next attempt is not sooner */
      retryAfterMs?: number;
    },
  ) {
    super(message, code, details, options);
    this.name = 'TransientNodeError';
    this.retryAfterMs = options?.retryAfterMs;
  }
  readonly retryAfterMs?: number;
}

/** Serializable description of a failure, as stored in events and returned by the API. */
export interface ErrorInfo {
  message: string;
  code: string;
  retryable: boolean;
  details?: unknown;
  /** node that failed, when the error is an execution's error */
  nodeId?: string;
  /** minimum delay before a retry, when the remote asked for one */
  retryAfterMs?: number;
}

export function toErrorInfo(err: unknown): ErrorInfo {
  if (err instanceof NodeError) {
    const retryAfterMs = (err as TransientNodeError).retryAfterMs;
    return {
      message: err.message,
      code: err.code,
      retryable: err.retryable,
      ...(err.details !== undefined ? { details: err.details } : {}),
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    };
  }
  if (err instanceof Error) {
    const e = err as Error & { code?: unknown; retryable?: unknown };
    const code = typeof e.code === 'string' ? e.code : err.name === 'AbortError' ? 'ABORTED' : 'UNEXPECTED';
    const retryable = typeof e.retryable === 'boolean' ? e.retryable : true;
    return { message: err.message || err.name, code, retryable };
  }
  if (typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string') {
    // JSONata and some libraries throw plain objects {code, message}
    const e = err as { message: string; code?: unknown };
    return { message: e.message, code: typeof e.code === 'string' ? e.code : 'UNEXPECTED', retryable: true };
  }
  return { message: String(err), code: 'UNEXPECTED', retryable: true };
}
