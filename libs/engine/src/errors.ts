/** Errors the engine raises; the daemon maps `code` to HTTP/WS/RPC in one place. */
export type EngineErrorCode =
  | 'VALIDATION_FAILED'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'EXECUTION_FINISHED'
  | 'INVALID_INPUT'
  | 'SHUTTING_DOWN'
  | 'STORE_FAILED';

export class EngineError extends Error {
  constructor(
    readonly code: EngineErrorCode,
    message: string,
    readonly details?: unknown,
    readonly retryable = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'EngineError';
  }
}
