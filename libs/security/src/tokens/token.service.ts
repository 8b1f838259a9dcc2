import { randomUUID } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import { SecurityError } from '../errors/security-error.js';
import { isRole, type Role } from '../rbac/permissions.js';

export const TOKEN_ISSUER = 'anchorflow';
export const TOKEN_AUDIENCE = 'anchorflow';
/** RFC 9068 access-token type; checked on verify so no other HS256 JWT made with the same secret passes. */
export const TOKEN_TYPE = 'at+jwt';
export const DEFAULT_TOKEN_TTL_SECONDS = 900;
const MIN_SECRET_BYTES = 32;

export interface TokenServiceOptions {
  /** From config (`ANCHORFLOW_JWT_SECRET` or a file it names). Strings count in UTF-8 bytes; ≥ 32 bytes. */
  secret: string | Uint8Array;
  /** Upper bound for `ttlSeconds` and for a token's age on verify. Default 86 400 (one day). */
  maxTtlSeconds?: number;
  /** Accepted clock skew between daemons when checking `exp`. Default 0. */
  clockToleranceSeconds?: number;
  /** Injected clock for tests. */
  now?: () => Date;
}

export interface IssueTokenInput {
  /** The API key the token was exchanged for; becomes `sub`, so a token traces back to a key. */
  keyId: string;
  role: Role;
  ttlSeconds?: number;
}

export interface TokenClaims {
  keyId: string;
  role: Role;
  /** `jti`, unique per token (for logs and a future deny-list). */
  tokenId: string;
  issuedAt: Date;
  expiresAt: Date;
}

export interface IssuedToken {
  token: string;
  expiresAt: Date;
  claims: TokenClaims;
}

/**
 * Short-lived HS256 JWTs for the editor (REST and the Socket.io handshake), exchanged for an API key at
 * `POST /api/v1/auth/token`. Symmetric signing is enough because the daemon is both issuer and verifier;
 * every daemon of a cluster gets the same secret from config.
 */
export class TokenService {
  readonly #key: Uint8Array;
  readonly #maxTtl: number;
  readonly #tolerance: number;
  readonly #now: () => Date;

  constructor(options: TokenServiceOptions) {
    const key = typeof options.secret === 'string' ? new TextEncoder().encode(options.secret) : new Uint8Array(options.secret);
    if (key.byteLength < MIN_SECRET_BYTES) {
      // Never echo the secret; its length is enough to act on.
      throw new SecurityError(
        'CONFIG_INVALID',
        `JWT secret must be at least ${MIN_SECRET_BYTES} bytes (got ${key.byteLength}); generate one with \`openssl rand -base64 48\``,
      );
    }
    this.#key = key;
    this.#maxTtl = options.maxTtlSeconds ?? 86_400;
    this.#tolerance = options.clockToleranceSeconds ?? 0;
    this.#now = options.now ?? (() => new Date());
    if (!Number.isInteger(this.#maxTtl) || this.#maxTtl < 1) throw new SecurityError('CONFIG_INVALID', 'maxTtlSeconds must be a positive integer');
    if (!(this.#tolerance >= 0)) throw new SecurityError('CONFIG_INVALID', 'clockToleranceSeconds must be ≥ 0');
  }

  async issue(input: IssueTokenInput): Promise<IssuedToken> {
    const ttl = input.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > this.#maxTtl) {
      throw new SecurityError('INVALID_ARGUMENT', `ttlSeconds must be an integer in [1, ${this.#maxTtl}]`, { ttlSeconds: ttl });
    }
    if (!isRole(input.role)) throw new SecurityError('INVALID_ARGUMENT', `unknown role '${String(input.role)}'`);
    if (typeof input.keyId !== 'string' || input.keyId === '') throw new SecurityError('INVALID_ARGUMENT', 'keyId is required');

    const iat = Math.floor(this.#now().getTime() / 1000);
    const exp = iat + ttl;
    const tokenId = randomUUID();
    const token = await new SignJWT({ role: input.role })
      .setProtectedHeader({ alg: 'HS256', typ: TOKEN_TYPE })
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setSubject(input.keyId)
      .setJti(tokenId)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(this.#key);
    const claims: TokenClaims = { keyId: input.keyId, role: input.role, tokenId, issuedAt: new Date(iat * 1000), expiresAt: new Date(exp * 1000) };
    return { token, expiresAt: claims.expiresAt, claims };
  }

  /** Throws `TOKEN_EXPIRED` only for a correctly signed token past its time; everything else is `TOKEN_INVALID`. */
  async verify(token: string): Promise<TokenClaims> {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.#key, {
        algorithms: ['HS256'],
        issuer: TOKEN_ISSUER,
        audience: TOKEN_AUDIENCE,
        typ: TOKEN_TYPE,
        requiredClaims: ['exp', 'iat', 'sub', 'jti'],
        maxTokenAge: this.#maxTtl,
        clockTolerance: this.#tolerance,
        currentDate: this.#now(),
      }));
    } catch (err) {
      // jose verifies the signature before any claim, so an expiry error implies a genuine token.
      if ((err as { code?: unknown }).code === 'ERR_JWT_EXPIRED') throw new SecurityError('TOKEN_EXPIRED', 'token has expired');
      throw new SecurityError('TOKEN_INVALID', 'invalid token', undefined, { cause: err });
    }
    const { sub, role, jti, iat, exp } = payload;
    if (typeof sub !== 'string' || sub === '' || !isRole(role) || typeof jti !== 'string' || typeof iat !== 'number' || typeof exp !== 'number') {
      throw new SecurityError('TOKEN_INVALID', 'invalid token claims');
    }
    return { keyId: sub, role, tokenId: jti, issuedAt: new Date(iat * 1000), expiresAt: new Date(exp * 1000) };
  }
}
