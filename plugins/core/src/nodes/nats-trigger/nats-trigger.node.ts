import { NodeError, defineTrigger } from '@anchorflow/plugin-sdk';
import { NatsTriggerParams } from './nats-trigger.params.js';

const utf8 = new TextDecoder('utf-8');

/** the message's data: parsed JSON when it is JSON, else the text */
export function decodeData(bytes: Uint8Array): unknown {
  const text = utf8.decode(bytes);
  if (text.trim() === '') return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export const natsTriggerNode = defineTrigger<NatsTriggerParams>({
  type: 'core.trigger.nats',
  version: 1,
  title: 'NATS subject',
  description:
    'Starts the workflow for each message on a NATS subject with {subject, data (JSON or text), headers}, keeping the messages that arrive while no daemon runs when `durable`; cluster mode only (the daemon needs nats.url).',
  params: NatsTriggerParams,
  requires: 'cluster',
  async start(ctx, fire) {
    const { subject, queueGroup, durable } = ctx.params;
    if (!ctx.messaging) throw new NodeError('core.trigger.nats needs cluster mode: configure nats.url (NATS_URL) on the daemon', 'CLUSTER_REQUIRED');
    const stop = await ctx.messaging.subscribe(
      subject,
      {
        ...(queueGroup ? { queueGroup } : {}),
        // one consumer per activation: a re-activated (or changed) trigger does not replay what came while it was off
        ...(durable ? { durable: `${ctx.workflowId}/${ctx.nodeId}/${ctx.activation}` } : {}),
      },
      async (message) => {
        const input = { subject: message.subject, data: decodeData(message.data), headers: message.headers };
        // a redelivered message (a crash before its ack) finds its execution already started
        const { executionId, duplicate } = await fire(input, message.id ? { dedupeKey: `nats:${ctx.nodeId}:${message.id}` } : undefined);
        ctx.logger.debug('nats message started an execution', { event: 'nats-trigger.fired', subject: message.subject, executionId, duplicate, ...(message.id ? { messageId: message.id } : {}) });
      },
    );
    ctx.logger.info('listening on a NATS subject', { event: 'nats-trigger.listening', subject, durable, ...(queueGroup ? { queueGroup } : {}) });
    return stop;
  },
});
