import type { NodeContext } from '@anchorflow/plugin-sdk';
import { nowOf } from './clock.js';

export type Channel = 'email' | 'slack' | 'discord' | 'telegram' | 'webhook';

/** What every notify.* node emits on `main`. */
export interface DeliveryOutput {
  channel: Channel;
  /**
   * `sent`: the channel accepted it. `unknown`: an earlier attempt started sending and its process
   * stopped before recording the outcome; the message may or may not have gone out, and it is not sent
   * again (see the plugin README, "Exactly once").
   */
  status: 'sent' | 'unknown';
  /** send attempts over every retry and restart of this node run */
  attempts: number;
  messageId?: string;
  httpStatus?: number;
  /** the attempt that sent it; 0 when nothing was sent by this run */
  durationMs: number;
  /** true when a previous attempt had already sent it and this one returned the recorded outcome */
  replayed?: boolean;
  [extra: string]: unknown;
}

/** The delivery record kept in plugin state under `delivery:<idempotency key>`. */
export interface DeliveryRecord {
  channel: Channel;
  status: 'sending' | 'sent' | 'failed';
  attempts: number;
  /** epoch ms of the last attempt's start */
  startedAt: number;
  output?: DeliveryOutput;
  /** code of the last failure */
  lastError?: string;
}

export const deliveryKey = (idempotencyKey: string) => `delivery:${idempotencyKey}`;

export interface SendResult {
  messageId?: string;
  httpStatus?: number;
  extra?: Record<string, unknown>;
}

export interface DeliverOptions {
  channel: Channel;
  /**
   * true for channels that cannot deduplicate (email, Slack, Discord, Telegram): a record left in
   * `sending` means the outcome is unknown and nothing is sent again. false for signed webhooks, whose
   * receiver deduplicates on Idempotency-Key: they are simply sent again.
   */
  refuseUnknown: boolean;
  send(): Promise<SendResult>;
}

/**
 * Exactly once where the channel cannot deduplicate: `sending` is written before the send and `sent`
 * (with the outcome) after, both in durable plugin state. A failed attempt is recorded as `failed`
 * (the channel told us it did not take the message) so the retry sends again.
 */
export async function deliver(ctx: NodeContext<object>, opts: DeliverOptions): Promise<DeliveryOutput> {
  // every attempt's outcome, for dashboards: sent | failed | unknown | replayed (a recorded one returned)
  const outcomes = ctx.metrics.counter('deliveries_total', 'Notification delivery attempts by channel and outcome', ['channel', 'outcome']);
  const key = deliveryKey(ctx.idempotencyKey);
  const previous = await ctx.state.get<DeliveryRecord>(key);
  if (previous?.status === 'sent' && previous.output) {
    ctx.logger.info('already delivered; returning the recorded outcome', { channel: opts.channel, attempts: previous.attempts });
    outcomes.inc({ channel: opts.channel, outcome: 'replayed' });
    return { ...previous.output, replayed: true };
  }
  if (previous?.status === 'sending' && opts.refuseUnknown) {
    ctx.logger.warn('an earlier attempt stopped between sending and recording; not sending again', { channel: opts.channel, attempts: previous.attempts, startedAt: new Date(previous.startedAt).toISOString() });
    outcomes.inc({ channel: opts.channel, outcome: 'unknown' });
    return { channel: opts.channel, status: 'unknown', attempts: previous.attempts, durationMs: 0 };
  }
  const attempts = (previous?.attempts ?? 0) + 1;
  const startedAt = nowOf(ctx);
  await ctx.state.set(key, { channel: opts.channel, status: 'sending', attempts, startedAt } satisfies DeliveryRecord);
  let result: SendResult;
  try {
    result = await opts.send();
  } catch (err) {
    const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : 'UNEXPECTED';
    await ctx.state.set(key, { channel: opts.channel, status: 'failed', attempts, startedAt, lastError: code } satisfies DeliveryRecord);
    outcomes.inc({ channel: opts.channel, outcome: 'failed' });
    throw err;
  }
  const output: DeliveryOutput = {
    channel: opts.channel,
    status: 'sent',
    attempts,
    ...(result.messageId !== undefined ? { messageId: result.messageId } : {}),
    ...(result.httpStatus !== undefined ? { httpStatus: result.httpStatus } : {}),
    durationMs: Math.max(0, nowOf(ctx) - startedAt),
    ...result.extra,
  };
  await ctx.state.set(key, { channel: opts.channel, status: 'sent', attempts, startedAt, output } satisfies DeliveryRecord);
  outcomes.inc({ channel: opts.channel, outcome: 'sent' });
  return output;
}
