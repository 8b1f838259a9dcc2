import { defineNode, NodeError, OutboundBlockedError, TransientNodeError } from '@anchorflow/plugin-sdk';
import { HttpParams } from './http.params.js';

/** Error details carry this much of a failed response's body: enough to diagnose, small enough to store. */
export const BODY_EXCERPT_CHARS = 1024;
/** Outputs are persisted with the execution; a response larger than this fails instead of bloating it. */
export const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

class ResponseTooLarge extends Error {}

/** Reads the body up to `limit` bytes: past it, either stop quietly (an excerpt) or throw. */
async function readText(res: Response, limit: number, overflow: 'truncate' | 'throw'): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let bytes = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return text + decoder.decode();
      bytes += value.byteLength;
      if (bytes > limit) {
        if (overflow === 'throw') throw new ResponseTooLarge();
        return text + decoder.decode(value.subarray(0, value.byteLength - (bytes - limit)));
      }
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    // frees the connection when we stopped early; a no-op after the end
    void reader.cancel().catch(() => {});
  }
}

function headersObject(headers: Headers): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  headers.forEach((value, name) => {
    out[name] = value;
  });
  // joined with commas, cookies would be ambiguous (Expires contains a comma)
  const cookies = headers.getSetCookie();
  if (cookies.length) out['set-cookie'] = cookies;
  return out;
}

function isJsonContentType(contentType: string | null): boolean {
  if (!contentType) return false;
  const mime = contentType.split(';', 1)[0]!.trim().toLowerCase();
  return mime === 'application/json' || mime.endsWith('+json');
}

function parseBody(text: string, contentType: string | null, responseType: HttpParams['responseType']): unknown {
  if (responseType === 'text') return text;
  if (responseType === 'json') {
    if (text === '') return null;
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new NodeError('response body is not valid JSON', 'HTTP_INVALID_JSON', { excerpt: text.slice(0, BODY_EXCERPT_CHARS) }, { cause: err });
    }
  }
  // auto: trust a JSON content type, sniff when there is none, never fail on a body that does not parse
  if (isJsonContentType(contentType) || (!contentType && /^\s*[[{"]/.test(text))) {
    if (text === '') return null;
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

function encodeBody(body: unknown, headers: Headers): string | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  return JSON.stringify(body);
}

export const httpNode = defineNode<HttpParams>({
  type: 'core.http',
  version: 1,
  title: 'HTTP request',
  description: 'Sends an HTTP request and emits the response status, headers and body.',
  category: 'action',
  inputs: ['main'],
  outputs: ['main'],
  params: HttpParams,
  retry: { maxAttempts: 3, backoffMs: 500 },
  async execute(ctx) {
    const { method, url, timeoutMs, responseType } = ctx.params;
    const headers = new Headers(ctx.params.headers);
    // stable across retries and restarts, so the receiver can drop a repeat; a key set by the user wins
    if (!headers.has('idempotency-key')) headers.set('idempotency-key', ctx.idempotencyKey);
    const body = encodeBody(ctx.params.body, headers);
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = AbortSignal.any([ctx.signal, timeout]);
    // the query is left out of messages and details: it often carries tokens
    const parsed = new URL(url);
    const target = { method, url: parsed.origin + parsed.pathname };

    let res: Response;
    let text: string | undefined;
    try {
      res = await ctx.fetch(url, { method, headers, body, signal, redirect: 'follow' });
      if (res.status < 400) text = await readText(res, MAX_RESPONSE_BYTES, 'throw');
    } catch (err) {
      // cancellation, the node's timeout or shutdown: the engine decides what happens next
      if (ctx.signal.aborted) throw err;
      if (timeout.aborted) {
        throw new TransientNodeError(`${method} ${target.url} timed out after ${timeoutMs} ms`, 'HTTP_TIMEOUT', { ...target, timeoutMs }, { cause: err });
      }
      if (err instanceof ResponseTooLarge) {
        throw new NodeError(`response body exceeds ${MAX_RESPONSE_BYTES} bytes`, 'HTTP_RESPONSE_TOO_LARGE', { ...target, limit: MAX_RESPONSE_BYTES });
      }
      // a refused destination (loopback, private ranges...) fails for good, with the policy's explanation
      if (err instanceof OutboundBlockedError) throw err;
      // one message whatever the socket said (refused, reset, DNS): error texts must not map open ports
      throw new TransientNodeError(`${method} ${target.url} failed: no response`, 'HTTP_NETWORK', target);
    }

    if (text === undefined) {
      // up to 4 UTF-8 bytes per character
      const excerpt = await readText(res, BODY_EXCERPT_CHARS * 4, 'truncate').catch(() => '');
      if (ctx.signal.aborted) throw ctx.signal.reason;
      const details = { ...target, status: res.status, body: excerpt.slice(0, BODY_EXCERPT_CHARS) };
      const message = `${method} ${target.url} answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
      if (res.status >= 500) throw new TransientNodeError(message, 'HTTP_5XX', details);
      if (res.status === 429) {
        const retryAfter = res.headers.get('retry-after');
        throw new TransientNodeError(message, 'HTTP_429', { ...details, ...(retryAfter ? { retryAfter } : {}) });
      }
      throw new NodeError(message, 'HTTP_4XX', details);
    }

    return { main: { status: res.status, headers: headersObject(res.headers), body: parseBody(text, res.headers.get('content-type'), responseType) } };
  },
});
