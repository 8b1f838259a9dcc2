import { type ErrorInfo, NodeError, TransientNodeError } from '@anchorflow/plugin-sdk';

/**
 * Rebuilds the error a node threw in another process from its ErrorInfo, so the engine classifies it
 * exactly as if it had been thrown here (NodeError: final; TransientNodeError: retry policy applies).
 */
export function errorFromInfo(info: ErrorInfo): NodeError {
  return info.retryable
    ? new TransientNodeError(info.message, info.code, info.details, info.retryAfterMs !== undefined ? { retryAfterMs: info.retryAfterMs } : undefined)
    : new NodeError(info.message, info.code, info.details);
}
