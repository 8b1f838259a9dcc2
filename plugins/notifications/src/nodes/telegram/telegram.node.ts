import { defineNode, NodeError } from '@anchorflow/plugin-sdk';
import { telegramBotCredential } from '../../credentials.js';
import { nowOf } from '../../shared/clock.js';
import { loadCredential } from '../../shared/credential-data.js';
import { deliver } from '../../shared/delivery.js';
import { postJson } from '../../shared/http.js';
import { renderTemplate } from '../../shared/template.js';
import { TelegramParams } from './telegram.params.js';

export const DEFAULT_TELEGRAM_API = 'https://api.telegram.org';

export const telegramNode = defineNode<TelegramParams>({
  type: 'notify.telegram',
  version: 1,
  title: 'Telegram message',
  description: 'Sends a message with a Telegram bot (Bot API sendMessage). Sent at most once per node run.',
  category: 'notification',
  inputs: ['main'],
  outputs: ['main'],
  params: TelegramParams,
  retry: { maxAttempts: 5, backoffMs: 1000, factor: 2, maxBackoffMs: 60_000 },
  async execute(ctx, input) {
    const { parseMode, chatId } = ctx.params;
    const text = renderTemplate('text', ctx.params.text, input, parseMode === 'HTML' ? 'html' : 'none');
    if (text.length > 4096) throw new NodeError(`text is ${text.length} characters once rendered; Telegram accepts at most 4096`, 'INVALID_PARAMS', { param: 'text', length: text.length });
    const { token, apiBase } = await loadCredential<{ token: string; apiBase?: string }>(ctx, 'credential', ctx.params.credential, telegramBotCredential);
    // the token is in the path: errors name the channel only
    const url = `${(apiBase || DEFAULT_TELEGRAM_API).replace(/\/+$/, '')}/bot${token}/sendMessage`;
    const body = JSON.stringify({ chat_id: /^-?\d+$/.test(chatId) ? Number(chatId) : chatId, text, ...(parseMode ? { parse_mode: parseMode } : {}) });
    return {
      main: await deliver(ctx, {
        channel: 'telegram',
        refuseUnknown: true,
        async send() {
          const res = await postJson({ url, target: 'Telegram Bot API', body, headers: {}, timeoutMs: 30_000, signal: ctx.signal, fetch: ctx.fetch, now: nowOf(ctx), code: 'TELEGRAM' });
          let messageId: unknown;
          try {
            messageId = (JSON.parse(res.text) as { result?: { message_id?: unknown } }).result?.message_id;
          } catch {
            messageId = undefined;
          }
          return { httpStatus: res.status, ...(messageId !== undefined ? { messageId: String(messageId) } : {}) };
        },
      }),
    };
  },
});
