import { IsIn, IsString, JSONSchema, Length, Static } from '@anchorflow/plugin-sdk';
import { Cron } from 'croner';
import { Check, Defaulted } from '../../shared/validators.js';

export const CATCH_UP_POLICIES = ['none', 'last', 'all'] as const;
export type CatchUpPolicy = (typeof CATCH_UP_POLICIES)[number];

/** The schedule of a cron expression in a zone (croner parses; 5 fields, or 6 with seconds first). */
export function parseSchedule(cron: string, timezone: string): Cron {
  return new Cron(cron, { timezone, paused: true, mode: '5-or-6-parts' });
}

/** What is wrong with a cron expression, or undefined. */
export function cronProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a cron expression string';
  const fields = value.trim().split(/\s+/).filter(Boolean).length;
  if (fields !== 5 && fields !== 6) return `must have 5 fields (minute hour day month weekday) or 6 (seconds first), not ${fields}`;
  try {
    parseSchedule(value, 'UTC');
    return undefined;
  } catch (err) {
    return `is not a valid cron expression: ${(err as Error).message}`;
  }
}

/** What is wrong with an IANA time zone name, or undefined. */
export function timezoneProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return 'must be an IANA time zone name such as "Europe/Berlin"';
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return undefined;
  } catch {
    return `${JSON.stringify(value)} is not an IANA time zone name (e.g. "UTC", "Europe/Berlin", "America/New_York")`;
  }
}

export class CronTriggerParams {
  @JSONSchema({ description: 'Cron expression: 5 fields (`minute hour day month weekday`), or 6 with seconds first, e.g. `0 9 * * 1-5` or `*/10 * * * * *`.', examples: ['0 9 * * 1-5'] })
  @IsString()
  @Length(1, 200)
  @Check('isCron', cronProblem)
  @Static()
  cron!: string;

  @JSONSchema({ default: 'UTC', description: 'IANA time zone the expression is read in (daylight saving time included).' })
  @Defaulted()
  @Check('isTimezone', timezoneProblem)
  @Static()
  timezone: string = 'UTC';

  @JSONSchema({
    default: 'last',
    description: 'Instants missed while no daemon ran the trigger: `none` skips them, `last` starts one execution for the latest of them, `all` one per instant (at most 1000).',
  })
  @Defaulted()
  @IsIn(CATCH_UP_POLICIES)
  @Static()
  catchUp: CatchUpPolicy = 'last';
}
