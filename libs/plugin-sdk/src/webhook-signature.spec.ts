import { createHmac } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { signWebhookPayload, verifyWebhookSignature } from './webhook-signature.js';

const SECRET = 'shared-secret-for-tests';
const BODY = '{"event":"order.paid","id":7}';
const T = 1_765_000_000;

describe('signWebhookPayload / verifyWebhookSignature', () => {
  it('signs "<t>.<raw body>" with HMAC-SHA256 in lowercase hex, as the README documents', () => {
    const expected = createHmac('sha256', SECRET).update(`${T}.${BODY}`).digest('hex');
    expect(signWebhookPayload(SECRET, BODY, T)).toBe(`t=${T},v1=${expected}`);
    expect(signWebhookPayload(SECRET, Buffer.from(BODY), T)).toBe(`t=${T},v1=${expected}`);
  });

  it('accepts its own signature within the tolerance and rejects tampering, another secret, stale and future timestamps', () => {
    const header = signWebhookPayload(SECRET, BODY, T);
    const at = (sec: number) => ({ now: sec * 1000 });
    expect(verifyWebhookSignature(SECRET, header, BODY, at(T + 299))).toEqual({ ok: true, t: T });
    expect(verifyWebhookSignature(SECRET, header, `${BODY} `, at(T))).toMatchObject({ ok: false, reason: 'mismatch' });
    expect(verifyWebhookSignature('other-secret', header, BODY, at(T))).toMatchObject({ ok: false, reason: 'mismatch' });
    expect(verifyWebhookSignature(SECRET, header, BODY, at(T + 301))).toMatchObject({ ok: false, reason: 'expired', message: 'signature timestamp is 301 s old (tolerance 300 s)' });
    expect(verifyWebhookSignature(SECRET, header, BODY, { now: (T - 400) * 1000, toleranceSec: 300 })).toMatchObject({ ok: false, reason: 'future' });
    expect(verifyWebhookSignature(SECRET, header, BODY, { now: (T + 100) * 1000, toleranceSec: 60 })).toMatchObject({ ok: false, reason: 'expired' });
    // the timestamp is inside the MAC: moving it breaks the signature
    expect(verifyWebhookSignature(SECRET, header.replace(`t=${T}`, `t=${T + 1}`), BODY, at(T))).toMatchObject({ ok: false, reason: 'mismatch' });
  });

  it('explains a missing or malformed header, and accepts any one of several v1 entries (secret rotation)', () => {
    expect(verifyWebhookSignature(SECRET, undefined, BODY)).toMatchObject({ ok: false, reason: 'missing' });
    expect(verifyWebhookSignature(SECRET, 'sha256=abc', BODY)).toMatchObject({ ok: false, reason: 'malformed' });
    expect(verifyWebhookSignature(SECRET, `t=${T},v1=ABC`, BODY, { now: T * 1000 })).toMatchObject({ ok: false, reason: 'malformed' });
    const good = signWebhookPayload(SECRET, BODY, T).split('v1=')[1];
    const old = signWebhookPayload('old-secret', BODY, T).split('v1=')[1];
    expect(verifyWebhookSignature(SECRET, `t=${T},v1=${old},v1=${good}`, BODY, { now: T * 1000 })).toEqual({ ok: true, t: T });
  });

  it('refuses to sign with an empty secret or a bad timestamp', () => {
    expect(() => signWebhookPayload('', BODY, T)).toThrow(/secret/);
    expect(() => signWebhookPayload(SECRET, BODY, 1.5)).toThrow(/unix seconds/);
  });
});
