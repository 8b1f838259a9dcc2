import { describe, expect, it } from '@jest/globals';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ExpressionEvaluator, MAX_EXPRESSION_SEQUENCE } from './expression-evaluator.js';

const bindings = { trigger: {}, nodes: {}, execution: { id: 'e', workflowId: 'w', workflowVersion: 1, startedAt: '2026-01-01T00:00:00.000Z', input: {} } };

/**
 * The unguarded cases block for seconds to minutes (a backtracking regex: minutes; `[1..2000000].($ * 2)`
 * in plain JSONata: 2.3 s). A loaded CI machine (two jest workers and Postgres on two cores) pauses
 * up to ~200 ms on its own (stop 21 saw 219 ms in another spec), so the bar sits above that.
 */
const LAG_BAR_MS = 300;

/** runs `fn` and returns the worst event-loop delay (ms) seen meanwhile, sampled every 10 ms */
async function worstLag(fn: () => Promise<unknown>): Promise<{ lagMs: number; outcome: unknown }> {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  let outcome: unknown;
  try {
    outcome = await fn();
  } catch (err) {
    outcome = err;
  }
  // one more turn so a block at the very end is recorded
  await new Promise((r) => setTimeout(r, 20));
  h.disable();
  return { lagMs: h.max / 1e6, outcome };
}

describe('ExpressionEvaluator under attack (issue 17): the event loop keeps turning', () => {
  const evaluator = new ExpressionEvaluator(1000);

  it('a catastrophic regex from webhook input is matched in linear time', async () => {
    // warm up (module loading, JIT) so the measurement sees the match alone
    await evaluator.evaluate('$match("ab", /b/)', {}, bindings);
    // a backtracking engine needs ~2^n steps here: minutes at n = 40
    const input = { text: `${'a'.repeat(40)}!` };
    const { lagMs, outcome } = await worstLag(() => evaluator.evaluate('$match(text, /(a+)+$/)', input, bindings));
    expect(outcome).toBeNull();
    expect(lagMs).toBeLessThan(LAG_BAR_MS);
    // the same answer as a backtracking engine gives on a short, harmless input
    expect(await evaluator.evaluate('$match(t, /(a+)b/)', { t: 'xaab' }, bindings)).toEqual({ match: 'aab', index: 1, groups: ['aa'] });
    expect(await evaluator.evaluate('$replace(t, /A(\\d)/i, "<$1>")', { t: 'a1 b a2' }, bindings)).toBe('<1> b <2>');
    expect(await evaluator.evaluate('$split(t, /,\\s*/)', { t: 'a, b,c' }, bindings)).toEqual(['a', 'b', 'c']);
    expect(await evaluator.evaluate('$contains(t, /^x/m)', { t: 'a\nx' }, bindings)).toBe(true);
  });

  it('refuses back-references (not linear) with a clear error', async () => {
    await expect(evaluator.evaluate('$match(t, /(a)\\1/)', { t: 'aa' }, bindings)).rejects.toMatchObject({ code: 'EXPRESSION_ERROR', message: expect.stringContaining('not supported (linear-time engine') });
  });

  it.each([
    ['a huge range', '[1..3000000]'],
    ['$reverse of a huge range', '$reverse([1..5000000])'],
    ['$string of a huge range', '$string([1..5000000])'],
    ['a huge range mapped', '[1..2000000].($ * 2)'],
  ])('%s fails fast with a size error', async (_what, expression) => {
    const { lagMs, outcome } = await worstLag(() => evaluator.evaluate(expression, {}, bindings));
    expect(outcome).toMatchObject({ code: 'EXPRESSION_ERROR', message: expect.stringMatching(new RegExp(`larger than ${MAX_EXPRESSION_SEQUENCE}|more than 1e7|sequence`)) });
    expect(lagMs).toBeLessThan(LAG_BAR_MS);
  });

  it('still handles ordinary arrays', async () => {
    expect(await evaluator.evaluate('$count([1..1000])', {}, bindings)).toBe(1000);
    expect(await evaluator.evaluate('$sum(items.price)', { items: Array.from({ length: 5000 }, () => ({ price: 2 })) }, bindings)).toBe(10_000);
  });
});
