import { NodeError, TransientNodeError, defineNode } from '@anchorflow/plugin-sdk';
import { GreetParams } from './greet.params.js';

export const greetNode = defineNode<GreetParams>({
  type: 'example.greet',
  version: 1,
  title: 'Greet',
  description: 'Builds a greeting, counts how often each name was greeted, and optionally tells a receiver.',
  category: 'action',
  inputs: ['main'],
  outputs: ['main'],
  params: GreetParams,
  // a transient failure (receiver down) is retried up to 3 times unless the workflow node overrides it
  retry: { maxAttempts: 3, backoffMs: 500 },
  timeoutMs: 10_000,
  async execute(ctx, input) {
    const { name, greeting, notifyUrl } = ctx.params;
    if (name.trim() === '') throw new NodeError('name is blank after evaluation', 'BLANK_NAME'); // wrong input: retrying cannot help
    const message = `${greeting}, ${name}!`;
    // durable plugin state (kept by the daemon, also when this runs in a worker); update() is atomic
    const times = (await ctx.state.update<number>(`greeted:${name}`, (n) => (n ?? 0) + 1)) ?? 1;
    if (notifyUrl) {
      // a retry or a crash re-runs this with the same idempotency key: the receiver must apply it once
      const res = await ctx.fetch(notifyUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': ctx.idempotencyKey },
        body: JSON.stringify({ message, input }),
        signal: ctx.signal,
      });
      if (res.status >= 500) throw new TransientNodeError(`receiver answered ${res.status}`, 'NOTIFY_5XX');
      if (!res.ok) throw new NodeError(`receiver refused the greeting (${res.status})`, 'NOTIFY_REFUSED', { status: res.status });
      ctx.logger.info('greeting delivered', { status: res.status });
    }
    return { main: { message, times } };
  },
});
