import type { RetryPolicy } from '@anchorflow/plugin-sdk';

/**
 * Delay before attempt `attempt + 1`: exponential (backoffMs × factor^(attempt-1), capped) with
 * "equal jitter" (half fixed, half random) so retries of many executions don't stampede together.
 */
export function retryDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxBackoffMs, policy.backoffMs * Math.pow(policy.factor, Math.max(0, attempt - 1)));
  return Math.round(exp / 2 + random() * (exp / 2));
}
