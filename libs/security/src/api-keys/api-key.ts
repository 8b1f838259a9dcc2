import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { SecurityError } from '../errors/security-error.js';
import type { Role } from '../rbac/permissions.js';

/**
 * API keys look like `afk_<id>_<secret>`:
 * - `afk_` makes leaked keys greppable (secret scanners, log audits);
 * - `<id>` is 16 lowercase hex chars (8 random bytes), the public lookup key stored in clear;
 * - `<secret>` is 32 random bytes in base64url (43 chars), never stored.
 *
 * Only SHA-256(whole key) is stored. A slow password hash (argon2/scrypt/bcrypt) exists to make guessing
 * low-entropy human passwords expensive; these keys carry 256 random bits, so a leaked hash cannot be
 * brute-forced anyway, and a fast hash keeps per-request authentication cheap (no 50-ms KDF on every
 * REST call, no DoS lever for anyone who can send requests).
 */
export const API_KEY_PREFIX = 'afk';
const ID_BYTES = 8;
const SECRET_BYTES = 32;
const API_KEY_PATTERN = /^afk_([0-9a-f]{16})_([A-Za-z0-9_-]{43,})$/;
const HASH_PATTERN = /^[0-9a-f]{64}$/i;

export interface GeneratedApiKey {
  /** Public id; store it and use it to look the record up. */
  id: string;
  /** The full key, shown to the user exactly once. Never store or log it. */
  secret: string;
  /** SHA-256 hex of `secret`; the only thing persisted. */
  hash: string;
}

export interface ParsedApiKey {
  id: string;
  /** Safe-to-log form, e.g. `afk_0123abcd4567ef89_…`. */
  redacted: string;
}

/** What the daemon persists per key; dates are absolute instants. */
export interface ApiKeyRecord {
  id: string;
  name: string;
  role: Role;
  hash: string;
  createdAt: Date;
  expiresAt?: Date | null;
  revokedAt?: Date | null;
}

export function generateApiKey(): GeneratedApiKey {
  const id = randomBytes(ID_BYTES).toString('hex');
  const secret = `${API_KEY_PREFIX}_${id}_${randomBytes(SECRET_BYTES).toString('base64url')}`;
  return { id, secret, hash: hashApiKey(secret) };
}

/** Returns undefined for anything not shaped like a key, so callers can answer 401 without parsing errors. */
export function parseApiKey(secret: unknown): ParsedApiKey | undefined {
  if (typeof secret !== 'string') return undefined;
  const m = API_KEY_PATTERN.exec(secret);
  if (!m) return undefined;
  return { id: m[1], redacted: `${API_KEY_PREFIX}_${m[1]}_…` };
}

/**
 * Hash of a full key, e.g. for `ANCHORFLOW_ADMIN_KEY` provided by provisioning. Rejects malformed keys so a
 * weak hand-typed admin key can't slip in.
 */
export function hashApiKey(secret: string): string {
  if (!parseApiKey(secret)) {
    throw new SecurityError('API_KEY_INVALID', `not an Anchorflow API key (expected ${API_KEY_PREFIX}_<16 hex>_<43+ base64url chars>)`);
  }
  return sha256Hex(secret);
}

/** Constant-time comparison of the key's hash with the stored one; false for malformed input. */
export function verifyApiKey(secret: string, storedHash: string): boolean {
  if (!HASH_PATTERN.test(storedHash)) return false;
  const actual = createHash('sha256').update(typeof secret === 'string' ? secret : '').digest();
  const ok = timingSafeEqual(actual, Buffer.from(storedHash, 'hex'));
  return ok && parseApiKey(secret) !== undefined;
}

/** A key authenticates only while it is neither revoked nor past its expiry. */
export function isUsable(record: Pick<ApiKeyRecord, 'expiresAt' | 'revokedAt'>, now: Date = new Date()): boolean {
  return unusableReason(record, now) === undefined;
}

function unusableReason(
  record: Pick<ApiKeyRecord, 'expiresAt' | 'revokedAt'>,
  now: Date,
): 'API_KEY_REVOKED' | 'API_KEY_EXPIRED' | undefined {
  // Any revocation timestamp counts, even one in the future: revocation is never scheduled, and a clock
  // skewed backwards must not resurrect a revoked key.
  if (record.revokedAt != null) return 'API_KEY_REVOKED';
  if (record.expiresAt != null && !(now.getTime() < record.expiresAt.getTime())) return 'API_KEY_EXPIRED';
  return undefined;
}

// Compared against when the id is unknown, so a miss costs the same as a hit with a wrong secret.
const DUMMY_HASH = sha256Hex('afk_0000000000000000_dummy');

/**
 * The whole check for a presented key: shape, lookup, constant-time hash comparison, then usability.
 * Expired/revoked are reported only after the secret proved correct, so the codes reveal nothing to a
 * guesser. Returns the record so the caller gets the role.
 */
export async function authenticateApiKey<R extends ApiKeyRecord>(
  secret: unknown,
  findById: (id: string) => Promise<R | undefined | null> | R | undefined | null,
  now: Date = new Date(),
): Promise<R> {
  const parsed = parseApiKey(secret);
  if (!parsed) throw new SecurityError('API_KEY_INVALID', 'invalid API key');
  const record = await findById(parsed.id);
  const matches = verifyApiKey(secret as string, record?.hash ?? DUMMY_HASH);
  if (!record || !matches || record.id !== parsed.id) throw new SecurityError('API_KEY_INVALID', 'invalid API key');
  const reason = unusableReason(record, now);
  if (reason === 'API_KEY_REVOKED') throw new SecurityError(reason, `API key ${parsed.redacted} is revoked`, { keyId: record.id });
  if (reason === 'API_KEY_EXPIRED') throw new SecurityError(reason, `API key ${parsed.redacted} has expired`, { keyId: record.id });
  return record;
}

function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}
