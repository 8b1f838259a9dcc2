import { WEBHOOK_SIGNATURE_HEADER, WebhookRejection, defineNode, verifyWebhookSignature } from '@anchorflow/plugin-sdk';
import { WebhookTriggerParams, effectiveExposure } from './webhook-trigger.params.js';

export const webhookTriggerNode = defineNode<WebhookTriggerParams>({
  type: 'core.trigger.webhook',
  version: 1,
  title: 'Webhook',
  description: 'Starts the workflow when an HTTP request arrives at /hooks/<path> from the callers its exposure admits (public, signed with an HMAC secret, or holding an API key), passing on its body or the whole request.',
  category: 'trigger',
  inputs: [],
  outputs: ['main'],
  params: WebhookTriggerParams,
  pure: true,
  // the daemon's generic /hooks router asks this capability where the node listens, who may call and what it gets
  webhook: {
    route: (p) => {
      if (typeof p.path !== 'string') return undefined;
      const exposure = effectiveExposure(p);
      // a public webhook saved before publicOutput existed answers 202 rather than hand out its output
      const lastNode = p.respond === 'lastNode' && (exposure !== 'public' || p.publicOutput === true);
      return {
        path: p.path,
        method: typeof p.method === 'string' ? p.method.toUpperCase() : 'POST',
        respond: lastNode ? 'lastNode' : 'immediately',
        exposure,
        ...(typeof p.maxBodyBytes === 'number' ? { maxBodyBytes: p.maxBodyBytes } : {}),
        ...(typeof p.rateLimitPerMinute === 'number' ? { rateLimit: { limit: p.rateLimitPerMinute, windowMs: 60_000 } } : {}),
      };
    },
    // the signature over the exact bytes received (the scheme notify.webhook signs with); 5 minutes of tolerance
    verify: async (request, { params, credentials, logger, now }) => {
      if (effectiveExposure(params) !== 'signed') return;
      let secret: string;
      try {
        secret = (await credentials.get<{ secret: string }>(params.secret!)).secret;
      } catch (err) {
        logger.error('webhook secret could not be loaded; the request is refused', { credential: params.secret, error: (err as Error).message });
        throw new WebhookRejection(401, 'SIGNATURE_INVALID', 'the signature could not be checked');
      }
      const header = request.headers[WEBHOOK_SIGNATURE_HEADER];
      const check = verifyWebhookSignature(secret, typeof header === 'string' ? header : undefined, request.rawBody ?? new Uint8Array(), { now: now() });
      if (!check.ok) throw new WebhookRejection(401, 'SIGNATURE_INVALID', check.message);
    },
    input: (request, p) =>
      p.include === 'request'
        ? { body: request.body ?? null, headers: request.headers, query: request.query, method: request.method, path: request.path }
        : (request.body ?? {}),
  },
  // the request → input mapping above shaped the payload; the node only hands it on
  execute: (_ctx, input) => ({ main: input }),
});
