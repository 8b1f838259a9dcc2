import { defineNode, NodeError } from '@anchorflow/plugin-sdk';
import { discordWebhookCredential } from '../../credentials.js';
import { nowOf } from '../../shared/clock.js';
import { loadCredential } from '../../shared/credential-data.js';
import { deliver } from '../../shared/delivery.js';
import { postJson } from '../../shared/http.js';
import { renderTemplate } from '../../shared/template.js';
import { DiscordParams } from './discord.params.js';

export const discordNode = defineNode<DiscordParams>({
  type: 'notify.discord',
  version: 1,
  title: 'Discord message',
  description: 'Posts to a Discord webhook (content and optional embeds). Sent at most once per node run.',
  category: 'notification',
  inputs: ['main'],
  outputs: ['main'],
  params: DiscordParams,
  retry: { maxAttempts: 5, backoffMs: 1000, factor: 2, maxBackoffMs: 60_000 },
  async execute(ctx, input) {
    const content = renderTemplate('content', ctx.params.content, input, 'none');
    if (content.length > 2000) throw new NodeError(`content is ${content.length} characters once rendered; Discord accepts at most 2000`, 'INVALID_PARAMS', { param: 'content', length: content.length });
    const { url } = await loadCredential<{ url: string }>(ctx, 'credential', ctx.params.credential, discordWebhookCredential);
    // wait=true: Discord answers with the created message (its id) instead of 204
    const target = new URL(url);
    target.searchParams.set('wait', 'true');
    // no pings from notification text unless the embeds/content are explicit about it
    const body = JSON.stringify({ content, ...(ctx.params.embeds ? { embeds: ctx.params.embeds } : {}), allowed_mentions: { parse: [] } });
    return {
      main: await deliver(ctx, {
        channel: 'discord',
        refuseUnknown: true,
        async send() {
          const res = await postJson({ url: target.href, target: 'Discord webhook', body, headers: {}, timeoutMs: 30_000, signal: ctx.signal, fetch: ctx.fetch, now: nowOf(ctx), code: 'DISCORD' });
          let id: unknown;
          try {
            id = (JSON.parse(res.text) as { id?: unknown }).id;
          } catch {
            id = undefined;
          }
          return { httpStatus: res.status, ...(typeof id === 'string' ? { messageId: id } : {}) };
        },
      }),
    };
  },
});
