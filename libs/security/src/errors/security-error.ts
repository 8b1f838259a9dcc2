/**
 * Errors the security core raises. The daemon maps `code` to HTTP/WS/RPC in its one exception filter
 * (see README); messages never contain secret material, so they are safe to log and to return.
 */
export type SecurityErrorCode =
  /** Malformed or unknown API key, or hash mismatch. Deliberately one code for all three: no id probing. */
  | 'API_KEY_INVALID'
  | 'API_KEY_EXPIRED'
  | 'API_KEY_REVOKED'
  /** Bad signature, wrong issuer/audience/alg, malformed claims. */
  | 'TOKEN_INVALID'
  | 'TOKEN_EXPIRED'
  /** The role lacks the permission. */
  | 'FORBIDDEN'
  /** Wrong key, unknown key id, tampered or swapped ciphertext. */
  | 'VAULT_DECRYPT_FAILED'
  /** Master key is not 32 bytes of base64/hex/raw, or its file cannot be read or written. */
  | 'MASTER_KEY_INVALID'
  /** Security configuration unusable at startup (e.g. JWT secret shorter than 32 bytes). */
  | 'CONFIG_INVALID'
  /** Value outside the JSON subset RFC 8785 can canonicalize (NaN, Infinity, lone surrogate, cycle, bigint). */
  | 'CANONICAL_JSON_INVALID'
  /** A caller passed an argument the API cannot accept (bad TTL, non-object credential data). */
  | 'INVALID_ARGUMENT';

export class SecurityError extends Error {
  constructor(
    readonly code: SecurityErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SecurityError';
  }
}

export function isSecurityError(err: unknown, code?: SecurityErrorCode): err is SecurityError {
  return err instanceof SecurityError && (code === undefined || err.code === code);
}
