import { defineNode } from '@anchorflow/plugin-sdk';
import { slackWebhookCredential } from '../../credentials.js';
import { nowOf } from '../../shared/clock.js';
import { loadCredential } from '../../shared/credential-data.js';
import { deliver } from '../../shared/delivery.js';
import { postJson } from '../../shared/http.js';
import { renderTemplate } from '../../shared/template.js';
import { SlackParams } from './slack.params.js';

export const slackNode = defineNode<SlackParams>({
  type: 'notify.slack',
  version: 1,
  title: 'Slack message',
  description: 'Posts to a Slack incoming webhook (text and optional Block Kit blocks). Sent at most once per node run.',
  category: 'notification',
  inputs: ['main'],
  outputs: ['main'],
  params: SlackParams,
  retry: { maxAttempts: 5, backoffMs: 1000, factor: 2, maxBackoffMs: 60_000 },
  async execute(ctx, input) {
    const text = renderTemplate('text', ctx.params.text, input, 'slack');
    const { url } = await loadCredential<{ url: string }>(ctx, 'credential', ctx.params.credential, slackWebhookCredential);
    const body = JSON.stringify({ text, ...(ctx.params.blocks ? { blocks: ctx.params.blocks } : {}) });
    return {
      main: await deliver(ctx, {
        channel: 'slack',
        refuseUnknown: true,
        async send() {
          // the webhook URL is the secret: errors name the channel, never the URL
          const res = await postJson({ url, target: 'Slack webhook', body, headers: {}, timeoutMs: 30_000, signal: ctx.signal, fetch: ctx.fetch, now: nowOf(ctx), code: 'SLACK' });
          return { httpStatus: res.status };
        },
      }),
    };
  },
});
