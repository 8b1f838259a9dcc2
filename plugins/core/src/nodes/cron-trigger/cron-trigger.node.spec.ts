import { describe, expect, it } from '@jest/globals';
import { paramsJsonSchema, validateParams } from '@anchorflow/plugin-sdk';
import { ManualTriggerClock, MemoryPluginState, runTrigger } from '@anchorflow/plugin-sdk/testing';
import { cronTriggerNode, MAX_CATCH_UP } from './cron-trigger.node.js';
import { CronTriggerParams } from './cron-trigger.params.js';

const problems = (params: unknown) => validateParams(CronTriggerParams, params).problems.map((p) => `${p.path} ${p.message}`);
const scheduled = (fired: Array<{ payload: unknown }>) => fired.map((f) => (f.payload as { scheduledAt: string }).scheduledAt);

describe('core.trigger.cron params', () => {
  it('defaults timezone to UTC and catchUp to last', () => {
    const { value, problems: found } = validateParams(CronTriggerParams, { cron: '0 9 * * 1-5' });
    expect(found).toEqual([]);
    expect({ ...value }).toEqual({ cron: '0 9 * * 1-5', timezone: 'UTC', catchUp: 'last' });
  });

  it.each(['* * * * *', '*/10 * * * * *', '0 9 * * MON-FRI', '0 0 1 1 *'])('accepts %s', (cron) => {
    expect(problems({ cron })).toEqual([]);
  });

  it('names what is wrong with a cron expression, a time zone or a policy', () => {
    expect(problems({ cron: '* * *' })).toEqual(['$.cron cron must have 5 fields (minute hour day month weekday) or 6 (seconds first), not 3']);
    expect(problems({ cron: '0 0 0 * * * 2030' })[0]).toContain('not 7');
    expect(problems({ cron: '61 * * * *' })[0]).toMatch(/^\$\.cron cron is not a valid cron expression/);
    expect(problems({ cron: '* * * * *', timezone: 'Mars/Olympus' })).toEqual(['$.timezone timezone "Mars/Olympus" is not an IANA time zone name (e.g. "UTC", "Europe/Berlin", "America/New_York")']);
    expect(problems({ cron: '* * * * *', catchUp: 'some' })).toHaveLength(1);
    expect(problems({})).toEqual([expect.stringMatching(/^\$\.cron /)]);
  });

  it('describes its params for the editor', () => {
    const schema = paramsJsonSchema(CronTriggerParams) as { required: string[]; properties: Record<string, { enum?: string[]; default?: string }> };
    expect(schema.required).toEqual(['cron']);
    expect(schema.properties.catchUp).toMatchObject({ enum: ['none', 'last', 'all'], default: 'last' });
    expect(schema.properties.timezone).toMatchObject({ default: 'UTC' });
  });
});

describe('core.trigger.cron on a clock the test drives', () => {
  it('starts one execution per instant with {scheduledAt, firedAt} and a workflow + instant dedupe key', async () => {
    const clock = new ManualTriggerClock('2026-12-07T08:59:30Z');
    const run = await runTrigger(cronTriggerNode, { params: { cron: '0 * * * *' }, clock, nodeId: 'every-hour' });
    await clock.advance('2026-12-07T08:59:59.999Z');
    expect(run.fired).toEqual([]);
    await clock.advance('2026-12-07T09:00:00Z');
    expect(run.fired).toEqual([{ payload: { scheduledAt: '2026-12-07T09:00:00.000Z', firedAt: '2026-12-07T09:00:00.000Z' }, dedupeKey: 'cron:every-hour:2026-12-07T09:00:00.000Z' }]);
    await clock.advance('2026-12-07T11:30:00Z');
    expect(scheduled(run.fired)).toEqual(['2026-12-07T09:00:00.000Z', '2026-12-07T10:00:00.000Z', '2026-12-07T11:00:00.000Z']);
    await run.stop();
    await clock.advance('2026-12-07T13:00:00Z');
    expect(run.fired).toHaveLength(3);
  });

  it('reads the expression in its time zone, daylight saving time included', async () => {
    // 09:00 in Berlin is 08:00 UTC in winter and 07:00 UTC in summer (DST starts 2027-03-28)
    const clock = new ManualTriggerClock('2027-03-26T00:00:00Z');
    const run = await runTrigger(cronTriggerNode, { params: { cron: '0 9 * * *', timezone: 'Europe/Berlin' }, clock });
    await clock.advance('2027-03-29T12:00:00Z');
    await run.stop();
    expect(scheduled(run.fired)).toEqual(['2027-03-26T08:00:00.000Z', '2027-03-27T08:00:00.000Z', '2027-03-28T07:00:00.000Z', '2027-03-29T07:00:00.000Z']);
  });

  it('a six-field expression fires on seconds', async () => {
    const clock = new ManualTriggerClock('2026-12-07T09:00:00.500Z');
    const run = await runTrigger(cronTriggerNode, { params: { cron: '*/2 * * * * *' }, clock });
    await clock.advance(5_000);
    await run.stop();
    expect(scheduled(run.fired)).toEqual(['2026-12-07T09:00:02.000Z', '2026-12-07T09:00:04.000Z']);
  });

  describe('catch-up after every daemon was down', () => {
    // runs 08:00..10:30, then "down" until 14:10 (11:00..14:00 missed), then a new start on the same state
    async function downtime(catchUp: string, options: { activation?: string; cron?: string } = {}) {
      const state = new MemoryPluginState();
      const dedupe = new Set<string>();
      const params = { cron: options.cron ?? '0 * * * *', catchUp };
      const clock = new ManualTriggerClock('2026-12-07T08:30:00Z');
      const first = await runTrigger(cronTriggerNode, { params, clock, state, dedupe });
      await clock.advance('2026-12-07T10:30:00Z');
      await first.stop();
      const later = new ManualTriggerClock('2026-12-07T14:10:00Z');
      const second = await runTrigger(cronTriggerNode, { params: { ...params, cron: params.cron }, clock: later, state, dedupe, activation: options.activation });
      const caughtUp = scheduled(second.fired);
      await later.advance('2026-12-07T15:00:00Z');
      await second.stop();
      return { before: scheduled(first.fired), caughtUp, after: scheduled(second.fired).slice(caughtUp.length), second };
    }

    it('none skips the missed instants and goes on with the next one', async () => {
      const r = await downtime('none');
      expect(r.before).toEqual(['2026-12-07T09:00:00.000Z', '2026-12-07T10:00:00.000Z']);
      expect(r.caughtUp).toEqual([]);
      expect(r.after).toEqual(['2026-12-07T15:00:00.000Z']);
      expect(r.second.logs.find((l) => l.fields?.event === 'cron.skipped')).toBeDefined();
    });

    it('last starts one execution, for the latest missed instant, then goes on', async () => {
      const r = await downtime('last');
      expect(r.caughtUp).toEqual(['2026-12-07T14:00:00.000Z']);
      expect(r.second.fired[0]!.payload).toEqual({ scheduledAt: '2026-12-07T14:00:00.000Z', firedAt: '2026-12-07T14:10:00.000Z' });
      expect(r.after).toEqual(['2026-12-07T15:00:00.000Z']);
    });

    it('all starts one execution per missed instant, oldest first', async () => {
      const r = await downtime('all');
      expect(r.caughtUp).toEqual(['2026-12-07T11:00:00.000Z', '2026-12-07T12:00:00.000Z', '2026-12-07T13:00:00.000Z', '2026-12-07T14:00:00.000Z']);
      expect(r.after).toEqual(['2026-12-07T15:00:00.000Z']);
    });

    it(`all is capped at the latest ${MAX_CATCH_UP} instants of a long downtime`, async () => {
      const r = await downtime('all', { cron: '* * * * * *' });
      expect(r.caughtUp).toHaveLength(MAX_CATCH_UP);
      expect(r.caughtUp.at(-1)).toBe('2026-12-07T14:10:00.000Z');
      expect(r.caughtUp[0]).toBe('2026-12-07T13:53:21.000Z');
    });

    it('a re-activation (or an edit) does not catch up on the time the workflow was switched off', async () => {
      const r = await downtime('all', { activation: 'v2' });
      expect(r.caughtUp).toEqual([]);
      expect(r.after).toEqual(['2026-12-07T15:00:00.000Z']);
    });

    it('a restart right after an instant fired does not start it again', async () => {
      const state = new MemoryPluginState();
      const dedupe = new Set<string>();
      const clock = new ManualTriggerClock('2026-12-07T08:30:00Z');
      const first = await runTrigger(cronTriggerNode, { params: { cron: '0 * * * *', catchUp: 'all' }, clock, state, dedupe });
      await clock.advance('2026-12-07T09:00:00Z');
      await first.stop();
      const second = await runTrigger(cronTriggerNode, { params: { cron: '0 * * * *', catchUp: 'all' }, clock, state, dedupe });
      await second.stop();
      expect(scheduled(first.fired)).toEqual(['2026-12-07T09:00:00.000Z']);
      expect([...second.fired, ...second.duplicates]).toEqual([]);
    });
  });

  it('an instant whose start failed is tried again until it is recorded, not dropped', async () => {
    const clock = new ManualTriggerClock('2026-12-07T08:59:00Z');
    let failures = 2;
    const started: string[] = [];
    const abort = new AbortController();
    const { sleepUntilOn } = await import('@anchorflow/plugin-sdk');
    const stop = await cronTriggerNode.trigger.start(
      {
        params: { cron: '0 * * * *', timezone: 'UTC', catchUp: 'last' },
        workflowId: 'wf', nodeId: 'n', activation: 'v1', signal: abort.signal,
        logger: { debug() {}, info() {}, warn() {}, error() {} },
        credentials: { get: async () => ({}) as never },
        state: new MemoryPluginState(),
        now: () => clock.now(),
        sleepUntil: (at) => sleepUntilOn(clock, abort.signal, at),
      },
      async (payload) => {
        if (failures-- > 0) throw new Error('database unavailable');
        started.push((payload as { scheduledAt: string }).scheduledAt);
        return { executionId: 'e', duplicate: false };
      },
    );
    await clock.advance('2026-12-07T09:00:00Z');
    expect(started).toEqual([]);
    await clock.advance('2026-12-07T09:00:10Z');
    expect(started).toEqual(['2026-12-07T09:00:00.000Z']);
    abort.abort();
    await stop();
  });
});
