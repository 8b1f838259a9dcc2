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
  // the daemon owns the route and shapes the payload (per `include`); the node only hands it on
  execute: (_ctx, input) => ({ main: input }),
});
