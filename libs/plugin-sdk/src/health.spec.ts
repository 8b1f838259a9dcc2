import { describe, expect, it } from '@jest/globals';
import { EndpointsHealth } from './health.js';
import { defineService } from './service.js';
import { runService } from './testing/index.js';

describe('EndpointsHealth', () => {
  it('ok while every endpoint answers; degraded naming the failed one; down when all fail; ok again after a success', () => {
    const h = new EndpointsHealth(['a', 'b']);
    expect(h.report()).toEqual({ state: 'ok', components: { a: { state: 'ok' }, b: { state: 'ok' } } });
    h.failed('a', new Error('no answer within 2000 ms'));
    h.failed('a', new Error('no answer within 2000 ms'));
    expect(h.report()).toEqual({ state: 'degraded', detail: 'failing: a (no answer within 2000 ms)', components: { a: { state: 'down', detail: 'no answer within 2000 ms' }, b: { state: 'ok' } } });
    h.failed('b', 'ECONNREFUSED');
    expect(h.failed('b', 'ECONNREFUSED')).toBe(true);
    expect(h.report()).toMatchObject({ state: 'down', detail: 'every endpoint failed: a (no answer within 2000 ms); b (ECONNREFUSED)' });
    expect(h.succeeded('a')).toBe(true);
    expect(h.report()).toMatchObject({ state: 'degraded', detail: 'failing: b (ECONNREFUSED)' });
    h.succeeded('b');
    expect(h.report().state).toBe('ok');
  });

  it('does not flap: one failure between successes leaves the endpoint ok', () => {
    const h = new EndpointsHealth(['rpc']);
    for (let i = 0; i < 5; i++) {
      expect(h.failed('rpc', 'slow')).toBe(false);
      expect(h.succeeded('rpc')).toBe(false);
      expect(h.report().state).toBe('ok');
    }
  });

  it('honours failAfter and recoverAfter', () => {
    const h = new EndpointsHealth(['rpc'], { failAfter: 3, recoverAfter: 2 });
    h.failed('rpc', 'x');
    h.failed('rpc', 'x');
    expect(h.report().state).toBe('ok');
    h.failed('rpc', 'x');
    expect(h.report().state).toBe('down');
    h.succeeded('rpc');
    expect(h.report().state).toBe('down');
    h.succeeded('rpc');
    expect(h.report().state).toBe('ok');
  });
});

describe('ctx.health in runService', () => {
  it('keeps the latest report per name, and refuses a name readiness could not show', async () => {
    const svc = defineService({
      name: 'follower',
      scope: 'every-daemon',
      start: (ctx) => {
        ctx.health.report('rpc:main', { state: 'degraded', detail: 'failing: rpcUrls[1]' });
        ctx.health.report('rpc:other', { state: 'ok' });
        ctx.health.clear('rpc:other');
        expect(() => ctx.health.report('bad name with spaces', { state: 'ok' })).toThrow(/letters, digits/);
        return () => {};
      },
    });
    const running = await runService(svc);
    expect([...running.health]).toEqual([['rpc:main', { state: 'degraded', detail: 'failing: rpcUrls[1]' }]]);
    await running.stop();
  });
});
