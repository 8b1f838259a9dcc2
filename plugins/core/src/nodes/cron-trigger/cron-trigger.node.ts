import { type Fire, type TriggerContext, defineTrigger } from '@anchorflow/plugin-sdk';
import { type CatchUpPolicy, CronTriggerParams, parseSchedule } from './cron-trigger.params.js';

/** `all` starts at most this many executions for the instants missed during one downtime (the latest ones). */
export const MAX_CATCH_UP = 1000;
/** how long a failed start (e.g. the database away) waits before it is tried again, at most */
const MAX_RETRY_MS = 30_000;

/** Kept in plugin state: the latest instant handled (started or skipped) for this activation and schedule. */
interface CronCursor {
  activation: string;
  schedule: string;
  /** epoch ms */
  last: number;
}

/** The execution's input. */
export interface CronFired {
  /** the instant the schedule named (ISO 8601, UTC) */
  scheduledAt: string;
  /** when the execution was started (later than scheduledAt for a caught-up instant) */
  firedAt: string;
}

/**
 * Instants in (after, until] the schedule names that `policy` wants started, oldest first: `none` none,
 * `last` the latest, `all` the latest MAX_CATCH_UP. Counted backwards from `until`, so a long downtime
 * of an every-second schedule costs no more than MAX_CATCH_UP steps.
 */
export function missedInstants(schedule: ReturnType<typeof parseSchedule>, after: number, until: number, policy: CatchUpPolicy): { start: Date[]; skipped: boolean } {
  if (until <= after) return { start: [], skipped: false };
  const oldest = schedule.nextRun(new Date(after));
  if (oldest === null || oldest.getTime() > until) return { start: [], skipped: false };
  if (policy === 'none') return { start: [], skipped: true };
  const wanted = policy === 'last' ? 1 : MAX_CATCH_UP;
  // previousRuns is strictly before its reference second: look from one second on and drop what is later
  const found = schedule
    .previousRuns(wanted + 1, new Date(until + 1000))
    .filter((d) => d.getTime() <= until && d.getTime() > after)
    .slice(0, wanted)
    .reverse();
  return { start: found, skipped: found.length > 0 && oldest.getTime() < found[0]!.getTime() };
}

async function startInstant(ctx: TriggerContext<CronTriggerParams>, fire: Fire, instant: Date, caughtUp: boolean): Promise<void> {
  const scheduledAt = instant.toISOString();
  const input: CronFired = { scheduledAt, firedAt: new Date(ctx.now()).toISOString() };
  // workflow + instant: however many daemons (or restarts) reach this instant, one execution starts
  const { executionId, duplicate } = await fire(input, { dedupeKey: `cron:${ctx.nodeId}:${scheduledAt}` });
  ctx.logger.info(duplicate ? 'cron instant already started' : 'cron instant started', { event: 'cron.fired', scheduledAt, executionId, duplicate, caughtUp });
}

export const cronTriggerNode = defineTrigger<CronTriggerParams>({
  type: 'core.trigger.cron',
  version: 1,
  title: 'Schedule (cron)',
  description:
    'Starts the workflow at each instant of a cron expression (5 fields, or 6 with seconds) in an IANA time zone, once across all daemons, with {scheduledAt, firedAt} as input; instants missed while no daemon ran follow `catchUp`.',
  params: CronTriggerParams,
  async start(ctx, fire) {
    const { cron, timezone, catchUp } = ctx.params;
    const schedule = parseSchedule(cron, timezone);
    const key = `cron/${ctx.workflowId}/${ctx.nodeId}`;
    const scheduleId = `${cron}|${timezone}`;
    const save = (last: number) => ctx.state.set(key, { activation: ctx.activation, schedule: scheduleId, last } satisfies CronCursor);
    // retried until it is recorded: the dedupe key makes a repeat harmless, and an instant is never dropped
    const handle = async (instant: Date, caughtUp: boolean): Promise<boolean> => {
      for (let delay = 1000; !ctx.signal.aborted; delay = Math.min(delay * 2, MAX_RETRY_MS)) {
        try {
          await startInstant(ctx, fire, instant, caughtUp);
          await save(instant.getTime());
          return true;
        } catch (err) {
          ctx.logger.error('cron instant could not be started; trying again', { event: 'cron.failed', scheduledAt: instant.toISOString(), error: (err as Error).message, retryInMs: delay });
          await ctx.sleepUntil(ctx.now() + delay);
        }
      }
      return false;
    };

    const startedAt = ctx.now();
    const saved = await ctx.state.get<CronCursor>(key);
    // the cursor of this activation and schedule; anything else (first start, re-activation, an edit) starts from now
    const resumed = saved && saved.activation === ctx.activation && saved.schedule === scheduleId ? saved.last : undefined;
    if (resumed !== undefined && resumed < startedAt) {
      const { start, skipped } = missedInstants(schedule, resumed, startedAt, catchUp);
      if (skipped) ctx.logger.warn('cron instants missed while no daemon ran were skipped', { event: 'cron.skipped', after: new Date(resumed).toISOString(), until: new Date(startedAt).toISOString(), catchUp });
      for (const instant of start) if (!(await handle(instant, true))) break;
    }
    if (ctx.signal.aborted) return () => {};
    await save(startedAt);

    const loop = (async () => {
      let cursor = startedAt;
      while (!ctx.signal.aborted) {
        const next = schedule.nextRun(new Date(cursor));
        if (!next) {
          ctx.logger.warn('cron expression names no further instant', { event: 'cron.exhausted', cron });
          return;
        }
        await ctx.sleepUntil(next.getTime());
        if (ctx.signal.aborted) return;
        // the daemon is up: every instant starts, even one reached late (a busy event loop)
        if (!(await handle(next, false))) return;
        cursor = next.getTime();
      }
    })();
    return () => loop;
  },
});
