import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The signed-webhook scheme shared by notify.webhook (which signs) and signed webhook triggers (which
 * verify): header `X-Anchorflow-Signature: t=<unix seconds>,v1=<lowercase hex HMAC-SHA256(secret, "<t>.<raw body>")>`.
 * The timestamp is inside the MAC, so a captured request cannot be replayed after the tolerance window.
 */
export const WEBHOOK_SIGNATURE_HEADER = 'x-anchorflow-signature';
export const DEFAULT_SIGNATURE_TOLERANCE_SEC = 300;

function mac(secret: string, t: number, body: string | Uint8Array): Buffer {
  const h = createHmac('sha256', secret);
  h.update(`${t}.`);
  h.update(body);
  return h.digest();
}

/** The header value for `body` (the exact bytes sent) signed at `t` (unix seconds). */
export function signWebhookPayload(secret: string, body: string | Uint8Array, t: number): string {
  if (typeof secret !== 'string' || secret === '') throw new TypeError('signWebhookPayload: secret must be a non-empty string');
  if (!Number.isSafeInteger(t) || t < 0) throw new TypeError('signWebhookPayload: t must be a non-negative integer (unix seconds)');
  return `t=${t},v1=${mac(secret, t, body).toString('hex')}`;
}

export type WebhookSignatureCheck =
  | { ok: true; t: number }
  | { ok: false; reason: 'missing' | 'malformed' | 'expired' | 'future' | 'mismatch'; message: string };

export interface VerifyWebhookSignatureOptions {
  /** how old (or how far in the future) `t` may be, in seconds (default 300) */
  toleranceSec?: number;
  /** epoch ms (default Date.now()) */
  now?: number;
}

/**
 * Checks a `X-Anchorflow-Signature` header against the raw body: recomputes the HMAC, compares in
 * constant time, and rejects a `t` outside ±toleranceSec. Several `v1=` entries are accepted (a sender
 * rotating its secret may sign with both); one match is enough.
 */
export function verifyWebhookSignature(secret: string, header: string | null | undefined, rawBody: string | Uint8Array, options: VerifyWebhookSignatureOptions = {}): WebhookSignatureCheck {
  if (!header) return { ok: false, reason: 'missing', message: `${WEBHOOK_SIGNATURE_HEADER} header is missing` };
  let t: number | undefined;
  const candidates: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,15}$/.test(value)) t = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) candidates.push(value);
  }
  if (t === undefined || candidates.length === 0) return { ok: false, reason: 'malformed', message: `${WEBHOOK_SIGNATURE_HEADER} must look like t=<unix seconds>,v1=<64 lowercase hex>` };
  const tolerance = options.toleranceSec ?? DEFAULT_SIGNATURE_TOLERANCE_SEC;
  const nowSec = Math.floor((options.now ?? Date.now()) / 1000);
  if (nowSec - t > tolerance) return { ok: false, reason: 'expired', message: `signature timestamp is ${nowSec - t} s old (tolerance ${tolerance} s)` };
  if (t - nowSec > tolerance) return { ok: false, reason: 'future', message: `signature timestamp is ${t - nowSec} s in the future (tolerance ${tolerance} s)` };
  const expected = mac(secret, t, rawBody);
  let match = false;
  // every candidate is compared, so the time taken does not tell which one matched
  for (const c of candidates) if (timingSafeEqual(expected, Buffer.from(c, 'hex'))) match = true;
  return match ? { ok: true, t } : { ok: false, reason: 'mismatch', message: 'signature does not match the body' };
}
