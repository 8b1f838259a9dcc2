import { describe, expect, it } from '@jest/globals';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { TokenService } from './token.service.js';
import { catchSecurityError, rejectsWithSecurityError } from '../spec-support/errors.js';

const SECRET = 'a-test-secret-that-is-long-enough-32+';
const t0 = new Date('2025-06-01T12:00:00Z');

function service(secret: string | Uint8Array = SECRET, at: { now: Date } = { now: t0 }) {
  return new TokenService({ secret, now: () => at.now });
}

const later = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
const sign = (claims: Record<string, unknown>, secret = SECRET) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
    .setIssuedAt(Math.floor(t0.getTime() / 1000))
    .sign(new TextEncoder().encode(secret));

describe('TokenService construction', () => {
  it('refuses a secret shorter than 32 bytes without echoing it', () => {
    const err = catchSecurityError(() => new TokenService({ secret: 'short-but-not-that-short-31-byt' }), 'CONFIG_INVALID');
    expect(err.message).not.toContain('short-but-not');
    expect(err.message).toContain('31');
    catchSecurityError(() => new TokenService({ secret: new Uint8Array(31) }), 'CONFIG_INVALID');
    expect(() => new TokenService({ secret: 'x'.repeat(32) })).not.toThrow();
  });

  it('counts UTF-8 bytes, not characters', () => {
    expect(() => new TokenService({ secret: 'é'.repeat(16) })).not.toThrow(); // 16 chars, 32 bytes
  });
});

describe('TokenService issue/verify', () => {
  it('issues an HS256 at+jwt for anchorflow with the key id as subject, valid for 15 minutes by default', async () => {
    const issued = await service().issue({ keyId: 'k1', role: 'editor' });
    expect(decodeProtectedHeader(issued.token)).toEqual({ alg: 'HS256', typ: 'at+jwt' });
    const payload = decodeJwt(issued.token);
    expect(payload).toMatchObject({ iss: 'anchorflow', aud: 'anchorflow', sub: 'k1', role: 'editor' });
    expect(payload.exp! - payload.iat!).toBe(900);
    expect(issued.expiresAt).toEqual(later(900));
    expect(issued.claims).toEqual({ keyId: 'k1', role: 'editor', tokenId: payload.jti, issuedAt: t0, expiresAt: later(900) });
  });

  it('verifies its own token back to the claims', async () => {
    const s = service();
    const issued = await s.issue({ keyId: 'k1', role: 'viewer', ttlSeconds: 60 });
    await expect(s.verify(issued.token)).resolves.toEqual(issued.claims);
  });

  it('gives every token its own id', async () => {
    const s = service();
    const a = await s.issue({ keyId: 'k', role: 'viewer' });
    const b = await s.issue({ keyId: 'k', role: 'viewer' });
    expect(a.claims.tokenId).not.toBe(b.claims.tokenId);
  });

  it('rejects a token signed with another secret', async () => {
    const token = (await service('another-secret-also-32-bytes-long!!').issue({ keyId: 'k1', role: 'admin' })).token;
    await rejectsWithSecurityError(service().verify(token), 'TOKEN_INVALID');
  });

  it('expires exactly at exp: TOKEN_EXPIRED then, valid a second before', async () => {
    const clock = { now: t0 };
    const s = service(SECRET, clock);
    const { token } = await s.issue({ keyId: 'k1', role: 'operator', ttlSeconds: 60 });
    clock.now = later(59);
    await expect(s.verify(token)).resolves.toMatchObject({ keyId: 'k1' });
    clock.now = later(60);
    await rejectsWithSecurityError(s.verify(token), 'TOKEN_EXPIRED');
    clock.now = later(3600);
    await rejectsWithSecurityError(s.verify(token), 'TOKEN_EXPIRED');
  });

  it('an expired token with a bad signature is INVALID, not EXPIRED', async () => {
    const clock = { now: t0 };
    const { token } = await service('another-secret-also-32-bytes-long!!', clock).issue({ keyId: 'k', role: 'admin', ttlSeconds: 1 });
    clock.now = later(10);
    await rejectsWithSecurityError(service(SECRET, clock).verify(token), 'TOKEN_INVALID');
  });

  it('rejects a payload edited after signing (role escalation)', async () => {
    const { token } = await service().issue({ keyId: 'k1', role: 'viewer' });
    const [header, payload, sig] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url');
    await rejectsWithSecurityError(service().verify(`${header}.${forged}.${sig}`), 'TOKEN_INVALID');
  });

  it('rejects alg "none" and other algorithms even with the right secret', async () => {
    const { token } = await service().issue({ keyId: 'k1', role: 'viewer' });
    const [, payload] = token.split('.');
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url');
    await rejectsWithSecurityError(service().verify(`${none}.${payload}.`), 'TOKEN_INVALID');
    const hs512 = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'HS512', typ: 'at+jwt' })
      .setIssuer('anchorflow').setAudience('anchorflow').setSubject('k').setJti('j')
      .setIssuedAt(Math.floor(t0.getTime() / 1000)).setExpirationTime(Math.floor(t0.getTime() / 1000) + 60)
      .sign(new TextEncoder().encode(SECRET));
    await rejectsWithSecurityError(service().verify(hs512), 'TOKEN_INVALID');
  });

  it.each<[string, Record<string, unknown>]>([
    ['wrong issuer', { iss: 'someone-else', aud: 'anchorflow', sub: 'k', jti: 'j', role: 'admin', exp: 1_748_800_000 }],
    ['wrong audience', { iss: 'anchorflow', aud: 'other', sub: 'k', jti: 'j', role: 'admin', exp: 1_748_800_000 }],
    ['no exp', { iss: 'anchorflow', aud: 'anchorflow', sub: 'k', jti: 'j', role: 'admin' }],
    ['unknown role', { iss: 'anchorflow', aud: 'anchorflow', sub: 'k', jti: 'j', role: 'root', exp: 1_748_800_000 }],
    ['no subject', { iss: 'anchorflow', aud: 'anchorflow', jti: 'j', role: 'admin', exp: 1_748_800_000 }],
  ])('rejects a correctly signed token with %s', async (_label, claims) => {
    // Still within its lifetime, so only the named defect can be the reason for rejection.
    expect(claims.exp === undefined || (claims.exp as number) > t0.getTime() / 1000).toBe(true);
    await rejectsWithSecurityError(service().verify(await sign(claims)), 'TOKEN_INVALID');
  });

  it('rejects a token whose exp lies beyond the maximum TTL (iat too old)', async () => {
    const clock = { now: t0 };
    const token = await sign({ iss: 'anchorflow', aud: 'anchorflow', sub: 'k', jti: 'j', role: 'admin', exp: t0.getTime() / 1000 + 10 * 86_400 });
    clock.now = later(86_401);
    await rejectsWithSecurityError(service(SECRET, clock).verify(token), 'TOKEN_EXPIRED');
  });

  it('rejects garbage', async () => {
    for (const junk of ['', 'abc', 'a.b.c', `${'x'.repeat(20)}.${'y'.repeat(20)}.${'z'.repeat(20)}`]) {
      await rejectsWithSecurityError(service().verify(junk), 'TOKEN_INVALID');
    }
  });

  it('validates issue() input', async () => {
    await rejectsWithSecurityError(service().issue({ keyId: 'k', role: 'viewer', ttlSeconds: 0 }), 'INVALID_ARGUMENT');
    await rejectsWithSecurityError(service().issue({ keyId: 'k', role: 'viewer', ttlSeconds: 1.5 }), 'INVALID_ARGUMENT');
    await rejectsWithSecurityError(service().issue({ keyId: 'k', role: 'viewer', ttlSeconds: 86_401 }), 'INVALID_ARGUMENT');
    await rejectsWithSecurityError(service().issue({ keyId: 'k', role: 'root' as never }), 'INVALID_ARGUMENT');
    await rejectsWithSecurityError(service().issue({ keyId: '', role: 'viewer' }), 'INVALID_ARGUMENT');
  });
});
