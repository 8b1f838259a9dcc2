import { isSecurityError, parseApiKey, SecurityError, type SecurityErrorCode, type TokenService } from '@anchorflow/security';
import type { IncomingHttpHeaders } from 'node:http';
import { ApiError } from '../common/api-error.js';
import type { ApiKeys } from './api-keys.js';
import type { AuthPrincipal } from './principal.js';

/** A JWT's shape (three base64url parts, the first two JSON); anything else is not worth verifying. */
const JWT_SHAPE = /^eyJ[A-Za-z0-9_-]*\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;
const MAX_CREDENTIAL_LENGTH = 4096;

export const AUTHENTICATION_CODES: readonly SecurityErrorCode[] = ['API_KEY_INVALID', 'API_KEY_EXPIRED', 'API_KEY_REVOKED', 'TOKEN_INVALID', 'TOKEN_EXPIRED'];

/**
 * The credential a request presents: `Authorization: Bearer <API key | editor token>`, else
 * `X-Api-Key: <API key>`. `undefined` when there is none; `null` when the header is malformed.
 */
export function presentedCredential(headers: IncomingHttpHeaders): string | null | undefined {
  const authorization = headers.authorization;
  if (authorization !== undefined) {
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(String(authorization));
    return m && m[1]!.length <= MAX_CREDENTIAL_LENGTH ? m[1]! : null;
  }
  const apiKey = headers['x-api-key'];
  if (apiKey !== undefined) {
    const value = (Array.isArray(apiKey) ? apiKey.join(',') : apiKey).trim();
    return value !== '' && value.length <= MAX_CREDENTIAL_LENGTH ? value : null;
  }
  return undefined;
}

/** One answer for every authentication failure: which check failed is for the log, not the client. */
export function unauthorized(message = 'missing, invalid, expired or revoked credentials'): ApiError {
  return new ApiError(401, 'UNAUTHORIZED', message);
}

export interface AuthenticationFailure {
  /** the precise reason, for logs and metrics */
  reason: SecurityErrorCode | 'MISSING' | 'MALFORMED';
  keyId?: string;
}

/**
 * Turns a request's headers into a principal: an API key (checked against the key store, cached), or an
 * editor token (signature, expiry, and its key still usable). Throws ApiError 401 otherwise, after
 * reporting the precise reason to `onFailure`.
 */
export class Authenticator {
  constructor(
    private readonly keys: ApiKeys,
    private readonly tokens: TokenService,
    private readonly onFailure: (failure: AuthenticationFailure) => void = () => undefined,
  ) {}

  async authenticate(headers: IncomingHttpHeaders): Promise<AuthPrincipal> {
    const credential = presentedCredential(headers);
    if (credential === undefined) {
      this.onFailure({ reason: 'MISSING' });
      throw unauthorized('authentication required: send Authorization: Bearer <API key or token>, or X-Api-Key: <API key>');
    }
    if (credential === null) {
      this.onFailure({ reason: 'MALFORMED' });
      throw unauthorized();
    }
    try {
      if (parseApiKey(credential)) {
        const key = await this.keys.authenticate(credential);
        return { via: 'api-key', keyId: key.id, role: key.role, keyName: key.name };
      }
      if (JWT_SHAPE.test(credential)) {
        const claims = await this.tokens.verify(credential);
        const key = await this.keys.usableById(claims.keyId);
        // a token never carries more than its key holds now (issue 17): a role claim that differs from
        // the key's (a forged claim signed with a leaked secret, or a key changed since) is refused
        if (key.role !== claims.role) throw new SecurityError('TOKEN_INVALID', "the token's role is not its key's role", { keyId: claims.keyId });
        return { via: 'token', keyId: claims.keyId, role: claims.role, tokenId: claims.tokenId };
      }
      this.onFailure({ reason: 'MALFORMED' });
      throw unauthorized();
    } catch (err) {
      if (isSecurityError(err) && AUTHENTICATION_CODES.includes(err.code)) {
        this.onFailure({ reason: err.code, keyId: typeof err.details?.keyId === 'string' ? err.details.keyId : undefined });
        throw unauthorized();
      }
      throw err;
    }
  }
}
