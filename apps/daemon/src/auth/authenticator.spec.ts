import { describe, expect, it } from '@jest/globals';
import { TokenService } from '@anchorflow/security';
import { ApiError } from '../common/api-error.js';
import { MemoryApiKeyStore } from './api-key.store.js';
import { ApiKeys } from './api-keys.js';
import { Authenticator, presentedCredential, type AuthenticationFailure } from './authenticator.js';

async function setup() {
  const keys = new ApiKeys(new MemoryApiKeyStore());
  const tokens = new TokenService({ secret: 'x'.repeat(32) });
  const failures: AuthenticationFailure[] = [];
  const auth = new Authenticator(keys, tokens, (f) => failures.push(f));
  await keys.create({ name: 'root', role: 'admin' });
  const editor = await keys.create({ name: 'e', role: 'editor' });
  return { keys, tokens, auth, failures, editor };
}

async function status(p: Promise<unknown>): Promise<number | 'ok'> {
  return p.then(() => 'ok' as const, (e: unknown) => (e instanceof ApiError ? e.status : Promise.reject(e)));
}

describe('presentedCredential', () => {
  it('reads Bearer (any case) and X-Api-Key; Authorization wins; malformed → null', () => {
    expect(presentedCredential({ authorization: 'Bearer abc' })).toBe('abc');
    expect(presentedCredential({ authorization: 'bearer   abc ' })).toBe('abc');
    expect(presentedCredential({ 'x-api-key': 'k' })).toBe('k');
    expect(presentedCredential({ authorization: 'Bearer a', 'x-api-key': 'k' })).toBe('a');
    expect(presentedCredential({})).toBeUndefined();
    expect(presentedCredential({ authorization: 'Basic dXNlcjpwdw==' })).toBeNull();
    expect(presentedCredential({ authorization: 'Bearer a b' })).toBeNull();
    expect(presentedCredential({ 'x-api-key': ' ' })).toBeNull();
    expect(presentedCredential({ authorization: `Bearer ${'a'.repeat(5000)}` })).toBeNull();
  });
});

describe('Authenticator', () => {
  it('turns an API key or an editor token into a principal', async () => {
    const { auth, tokens, editor } = await setup();
    expect(await auth.authenticate({ authorization: `Bearer ${editor.secret}` })).toEqual({ via: 'api-key', keyId: editor.key.id, role: 'editor', keyName: 'e' });
    expect(await auth.authenticate({ 'x-api-key': editor.secret })).toMatchObject({ via: 'api-key', keyId: editor.key.id });
    const { token, claims } = await tokens.issue({ keyId: editor.key.id, role: 'editor' });
    expect(await auth.authenticate({ authorization: `Bearer ${token}` })).toEqual({ via: 'token', keyId: editor.key.id, role: 'editor', tokenId: claims.tokenId });
  });

  it('answers 401 for everything else and reports the precise reason', async () => {
    const { auth, keys, tokens, failures, editor } = await setup();
    const { token } = await tokens.issue({ keyId: editor.key.id, role: 'editor' });
    const foreign = (await new TokenService({ secret: 'y'.repeat(32) }).issue({ keyId: editor.key.id, role: 'admin' })).token;
    const expired = (await new TokenService({ secret: 'x'.repeat(32), now: () => new Date(Date.now() - 3_600_000) }).issue({ keyId: editor.key.id, role: 'editor', ttlSeconds: 60 })).token;
    expect(await status(auth.authenticate({}))).toBe(401);
    expect(await status(auth.authenticate({ authorization: 'Basic x' }))).toBe(401);
    expect(await status(auth.authenticate({ authorization: 'Bearer garbage' }))).toBe(401);
    expect(await status(auth.authenticate({ authorization: `Bearer ${foreign}` }))).toBe(401);
    expect(await status(auth.authenticate({ authorization: `Bearer ${expired}` }))).toBe(401);
    await keys.revoke(editor.key.id);
    expect(await status(auth.authenticate({ authorization: `Bearer ${editor.secret}` }))).toBe(401);
    expect(await status(auth.authenticate({ authorization: `Bearer ${token}` }))).toBe(401);
    expect(failures.map((f) => f.reason)).toEqual(['MISSING', 'MALFORMED', 'MALFORMED', 'TOKEN_INVALID', 'TOKEN_EXPIRED', 'API_KEY_REVOKED', 'API_KEY_REVOKED']);
    expect(JSON.stringify(failures)).not.toContain(editor.secret);
  });

  it("refuses a token whose role claim is not its key's role (issue 17)", async () => {
    const { auth, tokens, failures, editor } = await setup();
    // signed with the daemon's own secret, claiming admin for an editor key
    const { token } = await tokens.issue({ keyId: editor.key.id, role: 'admin' });
    expect(await status(auth.authenticate({ authorization: `Bearer ${token}` }))).toBe(401);
    expect(failures.map((f) => f.reason)).toEqual(['TOKEN_INVALID']);
  });
});
