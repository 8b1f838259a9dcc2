import { createHash } from 'node:crypto';
import type { NodeLogger, SubscribeOptions, TriggerMessage, TriggerMessaging } from '@anchorflow/plugin-sdk';
import { AckPolicy, DeliverPolicy, type JsMsg, type Msg, type MsgHdrs, type NatsConnection, RetentionPolicy, StorageType, nanos } from 'nats';

export interface TriggerMessagingOptions {
  nc: NatsConnection;
  /** nats.prefix: names the streams trigger subscriptions create */
  prefix: string;
  logger: NodeLogger;
  /**
   * How long a durable trigger's messages wait for a daemon (stream max_age), and how long a durable
   * consumer nobody reads (a deactivated or changed trigger) is kept before the server drops it.
   * Default 7 days.
   */
  retentionMs?: number;
}

const DAY = 86_400_000;

function headersOf(h: MsgHdrs | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (!h) return out;
  for (const [name, values] of h) out[name] = [...values];
  return out;
}

const short = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 16);

/**
 * NATS for trigger sources (ctx.messaging in cluster mode). Plain subscriptions are core NATS (at most
 * once, queue groups share messages). Durable ones read a JetStream durable pull consumer: the stream
 * `<prefix>_TRIG_<hash of subject>` is created for the subject unless a stream already covers it, and
 * keeps what arrives while no daemon reads; a message is acknowledged only after its handler resolved,
 * so one whose handler failed or was cut short by a crash is delivered again.
 */
export function createTriggerMessaging(opts: TriggerMessagingOptions): TriggerMessaging {
  const { nc, prefix, logger } = opts;
  const retention = opts.retentionMs ?? 7 * DAY;

  async function streamFor(subject: string): Promise<string> {
    const jsm = await nc.jetstreamManager();
    const existing = await jsm.streams.find(subject).catch(() => undefined);
    if (existing) return existing;
    const name = `${prefix}_TRIG_${short(subject)}`.replace(/[^A-Za-z0-9_-]/g, '_');
    try {
      await jsm.streams.add({ name, subjects: [subject], retention: RetentionPolicy.Interest, storage: StorageType.File, max_age: nanos(retention), description: `Anchorflow durable trigger messages on ${subject}` });
    } catch (err) {
      // another daemon made it first, or an overlapping stream appeared meanwhile
      const found = await jsm.streams.find(subject).catch(() => undefined);
      if (found) return found;
      if (!/already in use/i.test((err as Error).message)) throw err;
    }
    return name;
  }

  async function durable(subject: string, name: string, handler: (m: TriggerMessage) => Promise<void>): Promise<() => Promise<void>> {
    const stream = await streamFor(subject);
    const jsm = await nc.jetstreamManager();
    // the trigger's name may hold any character and be long: the consumer is named by its hash
    const consumerName = `${prefix.replace(/[^A-Za-z0-9_-]/g, '_')}_trig_${short(name)}`;
    const known = await jsm.consumers.info(stream, consumerName).catch(() => undefined);
    if (!known) {
      await jsm.consumers.add(stream, {
        durable_name: consumerName,
        filter_subject: subject,
        ack_policy: AckPolicy.Explicit,
        // a new trigger starts with what arrives from now on, not with the stream's history
        deliver_policy: DeliverPolicy.New,
        ack_wait: nanos(30_000),
        inactive_threshold: nanos(retention),
        description: `Anchorflow trigger on ${subject}`,
      });
    }
    const consumer = await nc.jetstream().consumers.get(stream, consumerName);
    const messages = await consumer.consume({ max_messages: 64 });
    const done = (async () => {
      for await (const m of messages as AsyncIterable<JsMsg>) {
        try {
          await handler({ subject: m.subject, data: m.data, headers: headersOf(m.headers), id: `${stream}:${m.seq}` });
          m.ack();
        } catch (err) {
          logger.warn('trigger message not handled; it is delivered again', { subject: m.subject, seq: m.seq, error: (err as Error).message });
          m.nak(1000);
        }
      }
    })().catch((err: unknown) => logger.error('durable trigger subscription ended', { subject, error: (err as Error).message }));
    return async () => {
      await messages.close();
      await done;
    };
  }

  return {
    async subscribe(subject: string, options: SubscribeOptions, handler: (m: TriggerMessage) => Promise<void>) {
      if (options.durable) return durable(subject, options.durable, handler);
      const sub = nc.subscribe(subject, options.queueGroup ? { queue: options.queueGroup } : {});
      const done = (async () => {
        for await (const m of sub as AsyncIterable<Msg>) {
          try {
            await handler({ subject: m.subject, data: m.data, headers: headersOf(m.headers) });
          } catch (err) {
            logger.warn('trigger message not handled (at most once without durable)', { subject: m.subject, error: (err as Error).message });
          }
        }
      })();
      return async () => {
        sub.unsubscribe();
        await done;
      };
    },
  };
}
