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
  constructor(message: string, code = 'TRANSIENT', details?: unknown, options?: { cause?: unknown }) {
    super(message, code, details, options);
    this.name = 'TransientNodeError';
  }
}

/** Serializable description of a failure, as stored in events and returned by the API. */
export interface ErrorInfo {
  message: string;
  code: string;
  retryable: boolean;
  details?: unknown;
  /** node that failed, when the error is an execution's error */
  nodeId?: string;
}

export function toErrorInfo(err: unknown): ErrorInfo {
  if (err instanceof NodeError) {
    return { message: err.message, code: err.code, retryable: err.retryable, ...(err.details !== undefined ? { details: err.details } : {}) };
  }
  if (err instanceof Error) {
    const e = err as Error & { code?: unknown; retryable?: unknown };
    const code = typeof e.code === 'string' ? e.code : err.name === 'AbortError' ? 'ABORTED' : 'UNEXPECTED';
    const retryable = typeof e.retryable === 'boolean' ? e.retryable : true;
    return { message: err.message || err.name, code, retryable };
  }
  return { message: String(err), code: 'UNEXPECTED', retryable: true };
}
