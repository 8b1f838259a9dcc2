import { NodeError, type OutboundFetch, TransientNodeError } from '@anchorflow/plugin-sdk';

/** Error details carry this much of a refusal's body: enough to diagnose, small enough to store. */
export const EXCERPT_CHARS = 300;

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.ceil(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Discord (`retry_after`) and Telegram (`parameters.retry_after`) also say it in the JSON body, in seconds. */
function retryAfterFromBody(text: string): number | undefined {
  try {
    const b = JSON.parse(text) as { retry_after?: unknown; parameters?: { retry_after?: unknown } };
    const s = typeof b.retry_after === 'number' ? b.retry_after : b.parameters?.retry_after;
    return typeof s === 'number' && s >= 0 ? Math.ceil(s * 1000) : undefined;
  } catch {
    return undefined;
  }
}

function networkCode(err: unknown): string {
  // the guarded fetch says no more on purpose (which ports are open is not for workflow authors to learn)
  if ((err as { code?: unknown } | null)?.code === 'OUTBOUND_FAILED') return 'no response';
  // undici reports "fetch failed" with the socket error as the cause
  const cause = (err as { cause?: { code?: unknown; name?: unknown } } | null)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.name === 'string') return cause.name;
  return err instanceof Error ? err.name : 'NETWORK_ERROR';
}

export interface PostOptions {
  /** the URL; when it carries a secret (Slack, Discord, Telegram), `target` names it in messages instead */
  url: string;
  /** how the URL is named in errors: a webhook's own URL, or just the channel for secret URLs */
  target: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
  signal: AbortSignal;
  now: number;
  /** error code prefix, e.g. SLACK */
  code: string;
  /** ctx.fetch: the SDK's guarded client (every hop checked against the admin's outbound policy) */
  fetch: OutboundFetch;
}

/**
 * POSTs and classifies the answer: 2xx returned; network errors, timeouts, 429 (with the receiver's
 * Retry-After as retryAfterMs) and 5xx → TransientNodeError; other 4xx → NodeError with the status and
 * an excerpt of the answer. No cause is attached: undici's errors may quote the URL, which can be secret.
 */
export async function postJson(o: PostOptions): Promise<{ status: number; text: string; headers: Headers }> {
  const timeout = AbortSignal.timeout(o.timeoutMs);
  let res: Response;
  let text: string;
  try {
    res = await o.fetch(o.url, { method: 'POST', headers: { 'content-type': 'application/json', ...o.headers }, body: o.body, signal: AbortSignal.any([o.signal, timeout]), redirect: 'manual' });
    text = await res.text();
  } catch (err) {
    if (o.signal.aborted) throw o.signal.reason ?? err;
    // refused by the outbound policy (a private address, the daemon itself): not retried
    if (err instanceof NodeError && !err.retryable) throw err;
    if (timeout.aborted) throw new TransientNodeError(`${o.target} did not answer within ${o.timeoutMs} ms`, `${o.code}_TIMEOUT`, { timeoutMs: o.timeoutMs });
    const code = networkCode(err);
    throw new TransientNodeError(`${o.target} could not be reached: ${code}`, `${o.code}_NETWORK`, { cause: code });
  }
  if (res.status < 300) return { status: res.status, text, headers: res.headers };
  const excerpt = text.slice(0, EXCERPT_CHARS);
  const details = { status: res.status, body: excerpt };
  const message = `${o.target} answered ${res.status}${excerpt ? `: ${excerpt.replace(/\s+/g, ' ').slice(0, 120)}` : ''}`;
  if (res.status === 429) {
    const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), o.now) ?? retryAfterFromBody(text);
    throw new TransientNodeError(message, `${o.code}_RATE_LIMITED`, { ...details, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) }, retryAfterMs !== undefined ? { retryAfterMs } : undefined);
  }
  if (res.status >= 500) throw new TransientNodeError(message, `${o.code}_5XX`, details);
  // a 3xx (redirects are refused: a webhook URL that moved is a configuration problem) or 4xx
  throw new NodeError(message, `${o.code}_REFUSED`, details);
}
