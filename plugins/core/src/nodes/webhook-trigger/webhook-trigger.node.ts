import { defineNode } from '@anchorflow/plugin-sdk';
import { WebhookTriggerParams } from './webhook-trigger.params.js';

export const webhookTriggerNode = defineNode<WebhookTriggerParams>({
  type: 'core.trigger.webhook',
  version: 1,
  title: 'Webhook',
  description: 'Starts the workflow when an HTTP request arrives at /hooks/<path>, passing on its body or the whole request.',
  category: 'trigger',
  inputs: [],
  outputs: ['main'],
  params: WebhookTriggerParams,
  pure: true,
  // the daemon's generic /hooks router asks this capability where the node listens and what it gets
  webhook: {
    route: (p) =>
      typeof p.path === 'string'
        ? { path: p.path, method: typeof p.method === 'string' ? p.method.toUpperCase() : 'POST', respond: p.respond === 'lastNode' ? 'lastNode' : 'immediately' }
        : undefined,
    input: (request, p) =>
      p.include === 'request'
        ? { body: request.body ?? null, headers: request.headers, query: request.query, method: request.method, path: request.path }
        : (request.body ?? {}),
  },
  // the request → input mapping above shaped the payload; the node only hands it on
  execute: (_ctx, input) => ({ main: input }),
});
