import { defineNode, signWebhookPayload, WEBHOOK_SIGNATURE_HEADER } from '@anchorflow/plugin-sdk';
import { hmacSecretCredential } from '../../credentials.js';
import { nowOf } from '../../shared/clock.js';
import { loadCredential } from '../../shared/credential-data.js';
import { deliver } from '../../shared/delivery.js';
import { postJson } from '../../shared/http.js';
import { WebhookParams } from './webhook.params.js';

const RESERVED = new Set(['content-type', 'idempotency-key', WEBHOOK_SIGNATURE_HEADER]);

export const webhookNode = defineNode<WebhookParams>({
  type: 'notify.webhook',
  version: 1,
  title: 'Signed webhook',
  description: 'POSTs JSON with Idempotency-Key and, with an hmac-secret credential, X-Anchorflow-Signature (t=<unix s>,v1=<hex HMAC-SHA256 of "<t>.<body>">).',
  category: 'notification',
  inputs: ['main'],
  outputs: ['main'],
  params: WebhookParams,
  retry: { maxAttempts: 5, backoffMs: 1000, factor: 2, maxBackoffMs: 60_000 },
  async execute(ctx, input) {
    const p = ctx.params;
    const body = JSON.stringify(p.body === undefined ? (input ?? null) : p.body);
    const secret = p.credential ? (await loadCredential<{ secret: string }>(ctx, 'credential', p.credential, hmacSecretCredential)).secret : undefined;
    const userHeaders = Object.fromEntries(Object.entries(p.headers ?? {}).filter(([k]) => !RESERVED.has(k.toLowerCase())));
    const parsed = new URL(p.url);
    // the query is left out of messages: it often carries tokens
    const target = `webhook ${parsed.origin}${parsed.pathname}`;
    return {
      main: await deliver(ctx, {
        channel: 'webhook',
        // the receiver deduplicates on Idempotency-Key, so an unknown outcome is resolved by sending again
        refuseUnknown: false,
        async send() {
          const now = nowOf(ctx);
          const headers: Record<string, string> = { ...userHeaders, 'idempotency-key': ctx.idempotencyKey };
          // signed per attempt: a retry an hour later carries a fresh timestamp inside the tolerance window
          if (secret !== undefined) headers[WEBHOOK_SIGNATURE_HEADER] = signWebhookPayload(secret, body, Math.floor(now / 1000));
          const res = await postJson({ url: p.url, target, body, headers, timeoutMs: p.timeoutMs ?? 10_000, signal: ctx.signal, fetch: ctx.fetch, now, code: 'WEBHOOK' });
          return { httpStatus: res.status };
        },
      }),
    };
  },
});
