import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type TransientNodeError } from '@anchorflow/plugin-sdk';
import { MemoryPluginState, runNode } from '@anchorflow/plugin-sdk/testing';
import { startHttpSink, type HttpSink } from '../spec-support/http-sink.js';
import { runWithRetries } from '../spec-support/retrying.js';
import { discordNode } from './discord/discord.node.js';
import { slackNode } from './slack/slack.node.js';

/** the receivers of these tests listen on loopback, which ctx.fetch refuses unless allow-listed */
const LOOPBACK = { allowHosts: ['127.0.0.1'] };
import { telegramNode } from './telegram/telegram.node.js';

let sink: HttpSink;
beforeAll(async () => {
  sink = await startHttpSink();
});
afterAll(() => sink.close());

/** every string the three secrets could leak through */
const leaks = (value: unknown, ...secrets: string[]) => secrets.filter((s) => JSON.stringify(value).includes(s));

describe('notify.slack (incoming webhook)', () => {
  it('posts {text, blocks} as Slack expects, escaping & < > from the input', async () => {
    const path = '/services/T000/B000/slack-secret-token';
    sink.on(path, [{ status: 200, body: 'ok' }]);
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*Order paid*' } }];
    const r = await runNode(slackNode, { outbound: LOOPBACK,  credentials: { slack: { url: `${sink.url}${path}` } }, input: { who: 'Tom & <Jerry>' }, params: { credential: 'slack', text: 'Paid by {{who}}', blocks } });
    expect(sink.requests.at(-1)).toMatchObject({ method: 'POST', path, headers: expect.objectContaining({ 'content-type': 'application/json' }), json: { text: 'Paid by Tom &amp; &lt;Jerry&gt;', blocks } });
    expect(r.kind === 'output' && r.outputs.main).toEqual({ channel: 'slack', status: 'sent', attempts: 1, httpStatus: 200, durationMs: expect.any(Number) });
  });

  it('retries Slack 429 with its Retry-After, fails on invalid_payload without the webhook URL in the error', async () => {
    const path = '/services/T000/B000/rate-limited-secret';
    sink.on(path, [{ status: 429, headers: { 'retry-after': '30' }, body: 'rate_limited' }, { status: 400, body: 'invalid_payload' }]);
    const run = await runWithRetries(slackNode, { credentials: { slack: { url: `${sink.url}${path}` } }, params: { credential: 'slack', text: 'x' } });
    expect(run.errors.map((e) => [e.code, e.retryable, (e as TransientNodeError).retryAfterMs, e.message])).toEqual([
      ['SLACK_RATE_LIMITED', true, 30_000, 'Slack webhook answered 429: rate_limited'],
      ['SLACK_REFUSED', false, undefined, 'Slack webhook answered 400: invalid_payload'],
    ]);
    expect(leaks(run.errors.map((e) => [e.message, e.details]), 'rate-limited-secret', sink.url)).toEqual([]);
  });
});

describe('notify.discord (webhook)', () => {
  it('posts {content, embeds} with wait=true and reports the created message id; 429 JSON retry_after is honoured', async () => {
    const path = '/api/webhooks/123/discord-secret-token';
    sink.on(path, [
      { status: 429, body: { message: 'You are being rate limited.', retry_after: 0.25, global: false } },
      { status: 200, body: { id: '1100000000000000001', channel_id: '9', content: 'x' } },
    ]);
    const embeds = [{ title: 'Alert', color: 15158332 }];
    const run = await runWithRetries(discordNode, { credentials: { d: { url: `${sink.url}${path}` } }, input: { n: 3 }, params: { credential: 'd', content: '{{n}} orders', embeds } });
    expect(run.errors.map((e) => [e.code, (e as TransientNodeError).retryAfterMs])).toEqual([['DISCORD_RATE_LIMITED', 250]]);
    expect(run.output).toEqual({ channel: 'discord', status: 'sent', attempts: 2, httpStatus: 200, messageId: '1100000000000000001', durationMs: expect.any(Number) });
    const req = sink.requests.at(-1)!;
    expect(req.url).toBe(`${path}?wait=true`);
    expect(req.json).toEqual({ content: '3 orders', embeds, allowed_mentions: { parse: [] } });
  });
});

describe('notify.telegram (Bot API)', () => {
  const TOKEN = '123456:AAE-telegram-bot-token-secret';
  it('calls sendMessage with chat_id, text and parse_mode, HTML-escaping input for parseMode HTML', async () => {
    sink.on(`/bot${TOKEN}/sendMessage`, [{ status: 200, body: { ok: true, result: { message_id: 77, chat: { id: -100123 }, text: 'x' } } }]);
    const r = await runNode(telegramNode, { outbound: LOOPBACK, 
      credentials: { tg: { token: TOKEN, apiBase: `${sink.url}/` } },
      input: { who: '<b>Eve</b>' },
      params: { credential: 'tg', chatId: '-100123', text: '<b>Alert</b> from {{who}}', parseMode: 'HTML' },
    });
    expect(sink.requests.at(-1)!.json).toEqual({ chat_id: -100123, text: '<b>Alert</b> from &lt;b&gt;Eve&lt;&#x2F;b&gt;', parse_mode: 'HTML' });
    expect(r.kind === 'output' && r.outputs.main).toEqual({ channel: 'telegram', status: 'sent', attempts: 1, httpStatus: 200, messageId: '77', durationMs: expect.any(Number) });
  });

  it('does not retry "chat not found" and keeps the bot token out of the error; retries 429 per parameters.retry_after', async () => {
    sink.on(`/bot${TOKEN}/sendMessage`, [
      { status: 429, body: { ok: false, error_code: 429, description: 'Too Many Requests: retry after 2', parameters: { retry_after: 2 } } },
      { status: 400, body: { ok: false, error_code: 400, description: 'Bad Request: chat not found' } },
    ]);
    const state = new MemoryPluginState();
    const run = await runWithRetries(telegramNode, { state, credentials: { tg: { token: TOKEN, apiBase: sink.url } }, params: { credential: 'tg', chatId: '@alerts_channel', text: 'hi' } });
    expect(run.errors.map((e) => [e.code, e.retryable, (e as TransientNodeError).retryAfterMs])).toEqual([
      ['TELEGRAM_RATE_LIMITED', true, 2000],
      ['TELEGRAM_REFUSED', false, undefined],
    ]);
    expect(run.errors[1]!.message).toMatch(/^Telegram Bot API answered 400: .*chat not found/);
    expect(leaks(run.errors.map((e) => [e.message, e.details]), TOKEN, 'telegram-bot-token-secret')).toEqual([]);
    expect(sink.requests.at(-1)!.json).toEqual({ chat_id: '@alerts_channel', text: 'hi' });
  });

  it('refuses a malformed chat id at validation', async () => {
    await expect(runNode(telegramNode, { outbound: LOOPBACK,  params: { credential: 'tg', chatId: 'not a chat', text: 'x' } })).rejects.toThrow(/chatId must be a numeric chat id or @channelusername/);
  });
});
