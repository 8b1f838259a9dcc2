import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NatsConnection } from 'nats';
import { RetentionPolicy, StorageType } from 'nats';
import type { TriggerMessage } from '@anchorflow/plugin-sdk';
import { connectNats } from './connection.js';
import { createTriggerMessaging } from './trigger-messaging.js';
import { type NatsTestServer, natsForTests, reportSkip } from './spec-support/nats-test-server.js';

const server = await natsForTests('trigmsg');
if ('skip' in server) reportSkip('trigger messaging (real NATS)', server.skip);
const describeNats = 'skip' in server ? describe.skip : describe;

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const text = (m: TriggerMessage) => new TextDecoder().decode(m.data);

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describeNats('createTriggerMessaging (real NATS)', () => {
  const s = server as NatsTestServer;
  let nc: NatsConnection;
  let n = 0;
  const subject = () => `${s.prefix}.trig.t${++n}`;

  beforeAll(async () => {
    nc = await connectNats({ url: s.url, reconnectTimeWaitMs: 100 });
  });
  afterAll(async () => {
    await nc?.close();
    await s.close();
  });

  it('durable: what is published while nobody subscribes is delivered on the next subscribe, and nothing twice', async () => {
    const messaging = createTriggerMessaging({ nc, prefix: s.prefix, logger: quiet });
    const subj = subject();
    const got: TriggerMessage[] = [];
    let stop = await messaging.subscribe(subj, { durable: 'wf/in/v1' }, async (m) => void got.push(m));
    nc.publish(subj, 'one');
    await until('one', () => (got.length === 1 ? true : undefined));
    await stop();
    nc.publish(subj, 'two');
    nc.publish(subj, 'three');
    await nc.flush();
    stop = await messaging.subscribe(subj, { durable: 'wf/in/v1' }, async (m) => void got.push(m));
    await until('two and three', () => (got.length === 3 ? true : undefined));
    await stop();
    expect(got.map(text)).toEqual(['one', 'two', 'three']);
    expect(new Set(got.map((m) => m.id)).size).toBe(3);
    expect(got[0]!.id).toMatch(new RegExp(`^${s.prefix}_TRIG_[0-9a-f]{16}:1$`));
  });

  it('durable: a message whose handler failed is delivered again, with the same id', async () => {
    const messaging = createTriggerMessaging({ nc, prefix: s.prefix, logger: quiet });
    const subj = subject();
    const seen: Array<string | undefined> = [];
    const stop = await messaging.subscribe(subj, { durable: 'wf/in/v2' }, async (m) => {
      seen.push(m.id);
      if (seen.length === 1) throw new Error('database away');
    });
    nc.publish(subj, JSON.stringify({ a: 1 }), { headers: (await import('nats')).headers() });
    await until('the redelivery', () => (seen.length === 2 ? true : undefined));
    await stop();
    expect(seen[0]).toBe(seen[1]);
  });

  it('durable: a subject already covered by a stream uses that stream', async () => {
    const jsm = await nc.jetstreamManager();
    const wide = `${s.prefix}_WIDE`;
    await jsm.streams.add({ name: wide, subjects: [`${s.prefix}.wide.>`], retention: RetentionPolicy.Limits, storage: StorageType.Memory });
    const messaging = createTriggerMessaging({ nc, prefix: s.prefix, logger: quiet });
    const got: TriggerMessage[] = [];
    const stop = await messaging.subscribe(`${s.prefix}.wide.orders`, { durable: 'wf/in/v3' }, async (m) => void got.push(m));
    nc.publish(`${s.prefix}.wide.orders`, 'x');
    await until('the message', () => (got.length === 1 ? true : undefined));
    await stop();
    expect(got[0]!.id).toMatch(new RegExp(`^${wide}:\\d+$`));
    await jsm.streams.delete(wide);
  });

  it('plain: a queue group shares the messages, headers arrive as lists', async () => {
    const messaging = createTriggerMessaging({ nc, prefix: s.prefix, logger: quiet });
    const subj = subject();
    const a: TriggerMessage[] = [];
    const b: TriggerMessage[] = [];
    const stops = [await messaging.subscribe(subj, { queueGroup: 'g' }, async (m) => void a.push(m)), await messaging.subscribe(subj, { queueGroup: 'g' }, async (m) => void b.push(m))];
    await nc.flush();
    const { headers } = await import('nats');
    for (let i = 0; i < 20; i++) {
      const h = headers();
      h.append('x-i', String(i));
      nc.publish(subj, String(i), { headers: h });
    }
    await until('all 20', () => (a.length + b.length === 20 ? true : undefined));
    for (const stop of stops) await stop();
    expect([...a, ...b].map(text).sort((x, y) => Number(x) - Number(y))).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
    expect(a[0]?.headers['x-i'] ?? b[0]?.headers['x-i']).toEqual([expect.any(String)]);
    expect(a[0]?.id).toBeUndefined();
  });
});
