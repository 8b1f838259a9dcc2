import { describe, expect, it } from '@jest/globals';
import { type SubscribeOptions, type TriggerMessage, type TriggerMessaging, validateParams } from '@anchorflow/plugin-sdk';
import { runTrigger } from '@anchorflow/plugin-sdk/testing';
import { decodeData, natsTriggerNode } from './nats-trigger.node.js';
import { NatsTriggerParams } from './nats-trigger.params.js';

const problems = (params: unknown) => validateParams(NatsTriggerParams, params).problems.map((p) => p.path);

/** a messaging port the test publishes into by hand */
function fakeMessaging() {
  const subs: Array<{ subject: string; options: SubscribeOptions; handler: (m: TriggerMessage) => Promise<void>; stopped: boolean }> = [];
  const messaging: TriggerMessaging = {
    async subscribe(subject, options, handler) {
      const sub = { subject, options, handler, stopped: false };
      subs.push(sub);
      return async () => void (sub.stopped = true);
    },
  };
  const publish = (m: Omit<Partial<TriggerMessage>, 'data'> & { data: string }) =>
    Promise.all(subs.filter((s) => !s.stopped).map((s) => s.handler({ subject: s.subject, headers: {}, ...m, data: new TextEncoder().encode(m.data) })));
  return { messaging, subs, publish };
}

describe('core.trigger.nats', () => {
  it('defaults to durable and checks subjects and queue groups', () => {
    expect({ ...validateParams(NatsTriggerParams, { subject: 'orders.created' }).value }).toEqual({ subject: 'orders.created', durable: true });
    for (const subject of ['orders', 'orders.*.created', 'audit.>', '>', 'a-b_c.$x']) expect(problems({ subject })).toEqual([]);
    for (const subject of ['', 'orders..created', 'orders created', 'a.>.b', '.orders', 'orders.', 'or*ders']) expect(problems({ subject })).toEqual(['$.subject']);
    expect(problems({ subject: 'a', queueGroup: 'has space' })).toEqual(['$.queueGroup']);
  });

  it('says in the catalog that it needs cluster mode', () => {
    expect(natsTriggerNode.trigger.requires).toBe('cluster');
    expect(natsTriggerNode.description).toContain('cluster mode only');
  });

  it('decodes JSON data, and falls back to the text', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    expect(decodeData(enc('{"id":7}'))).toEqual({ id: 7 });
    expect(decodeData(enc('42'))).toBe(42);
    expect(decodeData(enc('hello {'))).toBe('hello {');
    expect(decodeData(enc(''))).toBe('');
  });

  it('starts an execution per message with {subject, data, headers}; a redelivered durable message is started once', async () => {
    const { messaging, subs, publish } = fakeMessaging();
    const run = await runTrigger(natsTriggerNode, { params: { subject: 'orders.*' }, messaging, workflowId: 'wf1', nodeId: 'in', activation: 'v1@t' });
    expect(subs[0]).toMatchObject({ subject: 'orders.*', options: { durable: 'wf1/in/v1@t' } });
    await publish({ subject: 'orders.eu', data: '{"id":1}', headers: { 'x-trace': ['a'] }, id: 'S:1' });
    await publish({ subject: 'orders.us', data: 'plain', id: 'S:2' });
    await publish({ subject: 'orders.eu', data: '{"id":1}', headers: { 'x-trace': ['a'] }, id: 'S:1' });
    expect(run.fired).toEqual([
      { payload: { subject: 'orders.eu', data: { id: 1 }, headers: { 'x-trace': ['a'] } }, dedupeKey: 'nats:in:S:1' },
      { payload: { subject: 'orders.us', data: 'plain', headers: {} }, dedupeKey: 'nats:in:S:2' },
    ]);
    expect(run.duplicates).toHaveLength(1);
    await run.stop();
    expect(subs[0]!.stopped).toBe(true);
  });

  it('without durable: a plain subscription in its queue group, no dedupe key', async () => {
    const { messaging, subs, publish } = fakeMessaging();
    const run = await runTrigger(natsTriggerNode, { params: { subject: 'jobs', durable: false, queueGroup: 'workers' }, messaging });
    expect(subs[0]!.options).toEqual({ queueGroup: 'workers' });
    await publish({ data: '1' });
    expect(run.fired).toEqual([{ payload: { subject: 'jobs', data: 1, headers: {} } }]);
    await run.stop();
  });

  it('refuses to start without NATS, naming what to configure', async () => {
    await expect(runTrigger(natsTriggerNode, { params: { subject: 'x' } })).rejects.toMatchObject({ code: 'CLUSTER_REQUIRED', message: expect.stringContaining('nats.url') });
  });
});
