import { describe, expect, it } from '@jest/globals';
import { IsInt, IsOptional, IsString, Max, Min, defineNode, definePlugin, defineService, pluginShortName, validatePluginConfig } from './index.js';
import { MemoryPluginState, runNode, runService } from './testing/index.js';

class TickerConfig {
  @IsInt() @Min(10) @Max(60_000)
  intervalMs: number = 1000;

  @IsOptional() @IsString()
  label?: string;
}

describe('defineService', () => {
  it('rejects a bad name, scope or start with a message naming the field', () => {
    expect(() => defineService({ name: 'Bad Name', scope: 'every-daemon', start: () => () => {} })).toThrow(/name "Bad Name"/);
    expect(() => defineService({ name: 'ok', scope: 'everywhere' as never, start: () => () => {} })).toThrow(/scope must be/);
    expect(() => defineService({ name: 'ok', scope: 'one-per-cluster', start: undefined as never })).toThrow(/start must be a function/);
  });

  it('definePlugin refuses two services with one name and a config that is not a class', () => {
    const s = defineService({ name: 'ticker', scope: 'every-daemon', start: () => () => {} });
    expect(() => definePlugin({ name: 'p', version: '1.0.0', nodes: [], services: [s, s] })).toThrow(/service ticker is defined twice/);
    expect(() => definePlugin({ name: 'p', version: '1.0.0', nodes: [], config: { intervalMs: 1 } as never })).toThrow(/config must be a DTO class/);
  });
});

describe('validatePluginConfig', () => {
  it('applies the DTO defaults and names each bad or unknown key', () => {
    expect(validatePluginConfig(TickerConfig, undefined)).toEqual({ value: expect.objectContaining({ intervalMs: 1000 }), problems: [] });
    const bad = validatePluginConfig(TickerConfig, { intervalMs: 5, colour: 'red' });
    expect(bad.problems.map((p) => p.path).sort()).toEqual(['$.colour', '$.intervalMs']);
    expect(bad.problems.find((p) => p.path === '$.intervalMs')?.message).toMatch(/not be less than 10/);
    expect(validatePluginConfig(TickerConfig, [1]).problems).toEqual([{ path: '$', message: 'the plugin config section must be an object' }]);
  });

  it('derives the config section name from the package name', () => {
    expect(pluginShortName('@anchorflow/plugin-example')).toBe('example');
    expect(pluginShortName('anchorflow-plugin-acme')).toBe('acme');
    expect(pluginShortName('@acme/bar')).toBe('bar');
  });
});

describe('runService', () => {
  it('lets a service resume the node that suspended on its token, through shared plugin state', async () => {
    const state = new MemoryPluginState();
    const waitNode = defineNode({
      type: 'demo.wait-tick',
      version: 1,
      title: 'wait',
      category: 'flow',
      inputs: ['main'],
      outputs: ['main'],
      execute: async (ctx) => {
        const token = `tick:${ctx.idempotencyKey}`;
        await ctx.state.set(`pending:${token}`, { token });
        return ctx.suspend({ token });
      },
    });
    const ticker = defineService<TickerConfig>({
      name: 'ticker',
      scope: 'one-per-cluster',
      start: (ctx) => {
        const flush = async () => {
          for (const { key, value } of await ctx.state.list<{ token: string }>('pending:')) {
            await ctx.resume(value.token, { at: ctx.now(), label: ctx.config.label });
            await ctx.state.delete(key);
          }
        };
        const t = setInterval(() => void flush(), ctx.config.intervalMs);
        return () => clearInterval(t);
      },
    });
    const suspended = await runNode(waitNode, { state, idempotencyKey: 'e1:n1' });
    expect(suspended).toMatchObject({ kind: 'suspend', suspension: { token: 'tick:e1:n1' } });
    const running = await runService(ticker, { configClass: TickerConfig, config: { intervalMs: 10, label: 'x' }, state, clock: { now: () => 42 } });
    const deadline = Date.now() + 5000;
    while (running.resumed.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await running.stop();
    expect(running.resumed).toEqual([{ token: 'tick:e1:n1', data: { at: 42, label: 'x' } }]);
    expect(running.ctx.signal.aborted).toBe(true);
    expect(await state.list('pending:')).toEqual([]);
  });

  it('refuses a config its DTO rejects, naming the key', async () => {
    const s = defineService({ name: 'x', scope: 'every-daemon', start: () => () => {} });
    await expect(runService(s, { configClass: TickerConfig, config: { intervalMs: 'soon' } })).rejects.toThrow(/\$\.intervalMs/);
  });
});
