import { describe, expect, it } from '@jest/globals';
import { buildRedactPaths, REDACTED, redactPaths, Redactor } from './redactor.js';

const SECRET = 'sk_live_9f8e7d6c5b4a';

function withSecret(...secrets: string[]): Redactor {
  const r = new Redactor();
  for (const s of secrets) r.addSecret(s);
  return r;
}

/** Every string anywhere in a value, for "the secret appears nowhere" assertions. */
const dump = (value: unknown): string => JSON.stringify(value, (_k, v) => (v instanceof Error ? { ...v, message: v.message, stack: v.stack } : v));

describe('Redactor: registered secret values', () => {
  it('finds a secret embedded in a URL string inside a nested array', () => {
    const input = { steps: [{ calls: [['GET', `https://api.example.test/v1/charges?key=${SECRET}&limit=10`]] }] };
    const out = withSecret(SECRET).redact(input);
    expect(out.steps[0].calls[0][1]).toBe(`https://api.example.test/v1/charges?key=${REDACTED}&limit=10`);
    expect(dump(out)).not.toContain(SECRET);
  });

  it('replaces every occurrence, keeping the surrounding text', () => {
    const r = withSecret(SECRET);
    expect(r.redactString(`a ${SECRET} b ${SECRET}${SECRET} c`)).toBe(`a ${REDACTED} b ${REDACTED} c`);
    expect(r.redact(SECRET)).toBe(REDACTED);
    expect(r.redactString('nothing here')).toBe('nothing here');
  });

  it('registers every string leaf of a decrypted credential, ignoring ones shorter than 4 chars', () => {
    const r = new Redactor();
    r.addSecretsFrom({ host: 'smtp.internal.test', port: 587, auth: { user: 'mailer-bot', pass: 'Tr0ub4dor&3' }, tls: ['on'], pin: 'abc' });
    const out = r.redactString('login mailer-bot:Tr0ub4dor&3 at smtp.internal.test port 587 pin abc, tls on');
    expect(out).toBe(`login ${REDACTED}:${REDACTED} at ${REDACTED} port 587 pin abc, tls on`);
    expect(r.addSecret('abc')).toBe(false);
    expect(r.addSecret('abcd')).toBe(true);
  });

  it('also finds the secret URL-encoded or JSON-escaped', () => {
    const secret = 'p@ss "w/rd" + ü';
    const r = withSecret(secret);
    expect(r.redactString(`https://x.test/?p=${encodeURIComponent(secret)}`)).toBe(`https://x.test/?p=${REDACTED}`);
    expect(r.redactString(JSON.stringify({ body: `pw=${secret}` }))).toBe(`{"body":"pw=${REDACTED}"}`);
  });

  it('leaves no tail of overlapping or nested secrets visible', () => {
    const r = withSecret('abcdWXYZ', 'WXYZ1234', 'cdWX');
    expect(r.redactString('__abcdWXYZ1234__')).toBe(`__${REDACTED}__`);
    expect(r.redactString('__cdWX__WXYZ1234')).toBe(`__${REDACTED}__${REDACTED}`);
  });

  it('redacts secrets in object keys too', () => {
    expect(withSecret(SECRET).redact({ [`cache:${SECRET}`]: 1 })).toEqual({ [`cache:${REDACTED}`]: 1 });
  });

  it('clearSecrets forgets them', () => {
    const r = withSecret(SECRET);
    expect(r.secretCount).toBeGreaterThan(0);
    r.clearSecrets();
    expect(r.redactString(SECRET)).toBe(SECRET);
  });

  it('redacts a short string it saw before the secret was registered, and stops after clearSecrets (short strings are cached)', () => {
    const r = new Redactor({ cachedStrings: 100 });
    const short = `node-${SECRET}`;
    const long = `${'x'.repeat(80)}${SECRET}`;
    expect(r.redactString(short)).toBe(short);
    expect(r.redactString(long)).toBe(long);
    r.addSecret(SECRET);
    expect(r.redactString(short)).toBe(`node-${REDACTED}`);
    expect(r.redactString(long)).toBe(`${'x'.repeat(80)}${REDACTED}`);
    expect(r.redactString(short)).toBe(`node-${REDACTED}`);
    r.clearSecrets();
    expect(r.redactString(short)).toBe(short);
  });
});

describe('Redactor: sensitive key names', () => {
  it.each([
    'password', 'Password', 'db_password', 'passwordConfirmation', 'passwd', 'passphrase', 'secret', 'clientSecret', 'client_secret',
    'webhookSecret', 'apiKey', 'api_key', 'X-Api-Key', 'authorization', 'Proxy-Authorization', 'privateKey', 'private_key', 'privateKeyHex',
    'mnemonic', 'seedPhrase', 'token', 'accessToken', 'refresh_token', 'cookie', 'set-cookie', 'pwd',
  ])('redacts the value under %s, whatever its type', (key) => {
    const out = new Redactor().redact({ [key]: { nested: 'x' }, n: 1 });
    expect(out).toEqual({ [key]: REDACTED, n: 1 });
  });

  it.each(['tokenAddress', 'tokenId', 'maxTokens', 'keyId', 'credentialId', 'author', 'passengers', 'url', 'name'])(
    'leaves %s alone (chain and payment data use these)',
    (key) => {
      expect(new Redactor().redact({ [key]: 'visible' })).toEqual({ [key]: 'visible' });
    },
  );

  it('keeps null and undefined under sensitive keys (absence leaks nothing and helps debugging)', () => {
    expect(new Redactor().redact({ password: null, token: undefined })).toEqual({ password: null, token: undefined });
  });

  it('uses configured key lists instead of the defaults', () => {
    const r = new Redactor({ sensitiveKeys: ['pin'], sensitiveKeySuffixes: ['otp'] });
    expect(r.redact({ pin: '1234', userPin: '9', smsOtp: '1', password: 'p' })).toEqual({ pin: REDACTED, userPin: REDACTED, smsOtp: REDACTED, password: 'p' });
  });
});

describe('Redactor: structure', () => {
  it('never mutates its input', () => {
    const input = { a: [{ password: 'x', url: `https://h/?k=${SECRET}` }], m: new Map([['token', 't']]), e: new Error(`boom ${SECRET}`) };
    const snapshot = dump(input);
    const out = withSecret(SECRET).redact(input);
    expect(dump(input)).toBe(snapshot);
    expect(input.a[0].password).toBe('x');
    expect(input.m.get('token')).toBe('t');
    expect(input.e.message).toBe(`boom ${SECRET}`);
    expect(out.a).not.toBe(input.a);
  });

  it('works on frozen input', () => {
    const input = Object.freeze({ inner: Object.freeze({ secret: 's', list: Object.freeze([SECRET]) }) });
    expect(withSecret(SECRET).redact(input)).toEqual({ inner: { secret: REDACTED, list: [REDACTED] } });
  });

  it('handles cycles and shared references by mirroring them in the copy', () => {
    const shared = { note: SECRET };
    const node: Record<string, unknown> = { name: 'root', a: shared, b: shared };
    node.self = node;
    node.children = [node];
    const out = withSecret(SECRET).redact(node) as Record<string, any>;
    expect(out.self).toBe(out);
    expect(out.children[0]).toBe(out);
    expect(out.a).toBe(out.b);
    expect(out.a.note).toBe(REDACTED);
    expect(out).not.toBe(node);
  });

  it('copies errors with their prototype, redacting message, stack, cause and own fields', () => {
    class UpstreamError extends Error {
      constructor(message: string, readonly status: number, readonly authorization: string, options?: { cause?: unknown }) {
        super(message, options);
      }
    }
    const cause = new TypeError(`fetch https://u:${SECRET}@h.test failed`);
    const err = new UpstreamError(`call with ${SECRET} failed`, 502, 'Basic xyz', { cause });
    const out = withSecret(SECRET).redact({ err }).err as UpstreamError;
    expect(out).toBeInstanceOf(UpstreamError);
    expect(out).not.toBe(err);
    expect(out.message).toBe(`call with ${REDACTED} failed`);
    expect(out.stack).toContain(`call with ${REDACTED} failed`);
    expect(out.stack).not.toContain(SECRET);
    expect(out.status).toBe(502);
    expect(out.authorization).toBe(REDACTED);
    expect((out.cause as Error).message).not.toContain(SECRET);
    expect(out.cause).toBeInstanceOf(TypeError);
    expect(Object.keys(out)).toEqual(Object.keys(err)); // message/stack stay non-enumerable
  });

  it('handles Maps, Sets, Dates, Buffers, class instances and toJSON', () => {
    class Money {
      constructor(readonly cents: number) {}
      toJSON() {
        return { amount: this.cents / 100, memo: SECRET };
      }
    }
    class Account {
      constructor(readonly iban: string, readonly password: string) {}
    }
    const when = new Date(0);
    const out = withSecret(SECRET).redact({
      m: new Map<string, unknown>([['apiKey', 'k'], ['note', SECRET]]),
      s: new Set([SECRET, 'ok']),
      when,
      buf: Buffer.from('bytes'),
      money: new Money(250),
      account: new Account('DE00', 'pw'),
      n: 1n,
      f: undefined,
    });
    expect(out.m).toEqual(new Map([['apiKey', REDACTED], ['note', REDACTED]]));
    expect(out.s).toEqual(new Set([REDACTED, 'ok']));
    expect(out.when).toBe(when);
    expect(out.money).toEqual({ amount: 2.5, memo: REDACTED });
    expect(out.account).toEqual({ iban: 'DE00', password: REDACTED });
    expect(out.n).toBe(1n);
  });

  it('keeps an own "__proto__" key as data instead of re-parenting the copy', () => {
    const input = JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}');
    const out = new Redactor().redact(input);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['__proto__', 'ok']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('passes primitives through', () => {
    const r = withSecret(SECRET);
    expect([r.redact(1), r.redact(null), r.redact(undefined), r.redact(true)]).toEqual([1, null, undefined, true]);
  });
});

describe('Redactor: well-known secret shapes (no registration needed)', () => {
  const r = new Redactor();

  it('URL userinfo passwords', () => {
    expect(r.redactString('connect postgres://anchor:s3cr3t@db.internal:5432/af failed')).toBe(`connect postgres://anchor:${REDACTED}@db.internal:5432/af failed`);
    expect(r.redactString('https://host:8443/path@x')).toBe('https://host:8443/path@x');
  });

  it('sensitive query and form parameters', () => {
    expect(r.redactString('https://h.test/cb?code=1&access_token=abc.def&state=2')).toBe(`https://h.test/cb?code=1&access_token=${REDACTED}&state=2`);
    expect(r.redactString('password=hunter2&user=bob')).toBe(`password=${REDACTED}&user=bob`);
    expect(r.redactString('GET /x?tokenAddress=0xabc')).toBe('GET /x?tokenAddress=0xabc');
  });

  it('sensitive members of JSON text carried in a string', () => {
    const body = JSON.stringify({ user: 'bob', password: 'hun"ter2', nested: { apiKey: 'k-123' }, tokenId: 7 });
    expect(r.redactString(body)).toBe(`{"user":"bob","password":"${REDACTED}","nested":{"apiKey":"${REDACTED}"},"tokenId":7}`);
    expect(JSON.parse(r.redactString(body))).toMatchObject({ password: REDACTED });
  });

  it('bearer tokens, Anchorflow API keys and JWTs', () => {
    expect(r.redactString('Authorization: Bearer abc.DEF-123_x')).toBe(`Authorization: Bearer ${REDACTED}`);
    const key = `afk_0123456789abcdef_${'Q'.repeat(43)}`;
    expect(r.redactString(`key ${key} rejected`)).toBe(`key afk_0123456789abcdef_${REDACTED} rejected`);
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJrMSJ9.c2lnbmF0dXJl';
    expect(r.redactString(`socket auth ${jwt}`)).toBe(`socket auth ${REDACTED}`);
  });

  it('can be switched off', () => {
    expect(new Redactor({ patterns: false }).redactString('password=hunter2')).toBe('password=hunter2');
  });

  it('is not fooled into slow paths by long padded base64 blobs', () => {
    const blob = `${'QUJD'.repeat(250_000)}==`;
    expect(r.redactString(blob)).toBe(blob);
  });
});

describe('Redactor: speed', () => {
  // speed itself is a benchmark matter; this pins correctness on a large input (~1 MB, 1,000 secrets)
  it('deep-redacts a ~1 MB object against 1 000 registered secrets', () => {
    const r = new Redactor();
    const secrets = Array.from({ length: 1000 }, (_, i) => `secret-${i.toString(36)}-${(i * 7919).toString(16)}-zz`);
    for (const s of secrets) r.addSecret(s);
    const rows = Array.from({ length: 5_000 }, (_, i) => ({
      id: i,
      url: `https://api.example.test/items/${i}?page=${i % 10}`,
      text: i % 1000 === 0 ? `leak ${secrets[i / 1000]} here` : 'lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod',
      tags: ['a', 'b', `tag-${i}`],
      nested: { ok: true, value: i * 1.5 },
    }));
    const out = r.redact({ rows });
    expect(out.rows[0].text).toBe(`leak ${REDACTED} here`);
    expect(out.rows[1000].text).toBe(`leak ${REDACTED} here`);
    expect(out.rows[1].text).toBe(rows[1].text);
  });
});

describe('redactPaths (pino)', () => {
  it('covers the usual keys at the top and one level down, plus request headers', () => {
    for (const p of ['password', '*.password', 'apiKey', '*.api_key', 'token', '*.accessToken', 'req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]', 'res.headers["set-cookie"]']) {
      expect(redactPaths).toContain(p);
    }
    expect(new Set(redactPaths).size).toBe(redactPaths.length);
  });

  it('quotes keys that are not identifiers', () => {
    expect(buildRedactPaths(['x-token'])).toEqual(expect.arrayContaining(['["x-token"]', '*["x-token"]']));
  });
});

describe('Redactor encodedForms (issue 17: base64 and hex copies of a secret)', () => {
  const r = new Redactor({ encodedForms: true, patterns: false, sensitiveKeys: [], sensitiveKeySuffixes: [] });
  r.addSecret(SECRET);
  const b64 = (s: string) => Buffer.from(s).toString('base64');

  it.each([
    ['base64 of the secret alone', b64(SECRET)],
    ['base64 of user:secret (Basic auth), alignment 2', `Basic ${b64(`me:${SECRET}`)}`],
    ['base64 at alignment 1', b64(`x${SECRET}tail`)],
    ['URL-safe base64 without padding', Buffer.from(`ab${SECRET}`).toString('base64url')],
    ['hex', Buffer.from(SECRET).toString('hex')],
    ['upper-case hex inside text', `id=${Buffer.from(SECRET).toString('hex').toUpperCase()};`],
  ])('redacts %s', (_what, text) => {
    const out = r.redactString(text);
    expect(out).toContain(REDACTED);
    expect(Buffer.from(out.replace(/^Basic /, ''), 'base64').toString()).not.toContain(SECRET);
  });

  it('leaves other encoded data alone, and is off by default', () => {
    const other = b64('some other value entirely');
    expect(r.redactString(other)).toBe(other);
    expect(withSecret(SECRET).redactString(b64(SECRET))).toBe(b64(SECRET));
  });
});
