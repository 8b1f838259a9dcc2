import { describe, expect, it } from '@jest/globals';
import { MemoryPluginState, runNode, runService } from '@anchorflow/plugin-sdk/testing';
import plugin from '../../index.js';
import { ExampleConfig } from '../../config.js';
import { nextTickNode } from '../../nodes/next-tick/next-tick.node.js';
import { tickerService } from './ticker.service.js';

async function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('ticker service + example.next-tick', () => {
  it('declares the service and its config in the plugin', () => {
    expect(plugin.services?.map((s) => [s.name, s.scope])).toEqual([['ticker', 'one-per-cluster']]);
    expect(plugin.config).toBe(ExampleConfig);
  });

  it('the node suspends on a token; the next tick resumes it once with the tick, and the node passes its input on', async () => {
    const state = new MemoryPluginState();
    const first = await runNode(nextTickNode, { state, input: { order: 7 }, idempotencyKey: 'e1:wait' });
    expect(first).toMatchObject({ kind: 'suspend', suspension: { token: 'example.tick:e1:wait' } });
    // a re-run after a crash (same idempotency key) waits on the same token, recorded once
    await runNode(nextTickNode, { state, input: { order: 7 }, idempotencyKey: 'e1:wait' });
    expect(await state.list('waiting/')).toHaveLength(1);

    const ticker = await runService(tickerService, { configClass: ExampleConfig, config: { tickIntervalMs: 50 }, state, clock: { now: () => 1234 } });
    await until('a resume', () => ticker.resumed.length > 0);
    await until('a second tick', () => state.data.get('ticker/count') === 2);
    await ticker.stop();
    expect(ticker.resumed).toEqual([{ token: 'example.tick:e1:wait', data: { tick: 1, at: 1234 } }]);
    expect(await state.list('waiting/')).toEqual([]);

    const resumed = await runNode(nextTickNode, { state, input: { order: 7 }, resume: { reason: 'signal', data: ticker.resumed[0]!.data, suspendedAt: 1 } });
    expect(resumed).toMatchObject({ kind: 'output', outputs: { main: { input: { order: 7 }, tick: 1, at: 1234 } } });
  });

  it('keeps an entry nobody waits on yet and retries it on the next tick', async () => {
    const state = new MemoryPluginState();
    await runNode(nextTickNode, { state, idempotencyKey: 'e2:wait' });
    let answers = [false, true];
    const ticker = await runService(tickerService, { config: { tickIntervalMs: 50 }, state, isWaiting: () => answers.shift() ?? false });
    await until('two resume attempts', () => ticker.resumed.length >= 2);
    await ticker.stop();
    expect(ticker.resumed.map((r) => r.token)).toEqual(['example.tick:e2:wait', 'example.tick:e2:wait']);
    expect(await state.list('waiting/')).toEqual([]);
    answers = [];
  });

  it('refuses a tick interval below 50 ms, naming the key', async () => {
    await expect(runService(tickerService, { configClass: ExampleConfig, config: { tickIntervalMs: 5 } })).rejects.toThrow(/\$\.tickIntervalMs must not be less than 50/);
  });
});
