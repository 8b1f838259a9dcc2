import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { NodeError, TransientNodeError } from './errors.js';
import type { OutboundFetch } from './outbound.js';

export type { EventSourceMessage };

export interface EventStreamOptions {
  /** names the stream in every error, e.g. `Casper sidecar SSE (http://…/events?start_from=7)` */
  label: string;
  /** first part of the error codes: `<prefix>_UNREACHABLE`, `<prefix>_SSE_STALLED`… (e.g. `CASPER`) */
  codePrefix: string;
  /** aborting it ends the stream quietly: the promise resolves */
  signal: AbortSignal;
  /** how long the server may take to answer with the stream's headers */
  connectTimeoutMs: number;
  /** a stream that sends nothing this long — no event, not even a `:` keep-alive comment — is treated as cut (half-open TCP) */
  idleTimeoutMs: number;
  /** the stream is open: HTTP 200, text/event-stream */
  onOpen?(): void;
  /**
   * Each event, in arrival order. A returned promise is awaited before the next event is handed over (the
   * stream is not read meanwhile, and its idle timer does not run); a throw ends the stream with that error.
   */
  onEvent(message: EventSourceMessage): void | Promise<void>;
  /** a frame that is not valid SSE; the stream goes on */
  onMalformed?(error: TransientNodeError): void;
  /** default: the global fetch (the caller's configured endpoint, not user input) */
  fetch?: OutboundFetch;
}

/**
 * Reads one server-sent-events stream (`text/event-stream`) until the server ends it or `signal` aborts;
 * both resolve. Everything else rejects with a NodeError naming the stream: unreachable, no answer within
 * `connectTimeoutMs`, silent for `idleTimeoutMs`, cut, a wrong content type or status (retryable), or
 * HTTP 404 / 422 — a wrong path or a refused query (`start_from`), which asking again cannot fix (not
 * retryable). Reconnecting, backoff and where to resume from are the caller's: each protocol resumes its
 * own way (the Casper sidecar with `?start_from=<id>`).
 */
export async function readEventStream(url: string, opts: EventStreamOptions): Promise<void> {
  const { label, codePrefix: p, signal } = opts;
  const ctl = new AbortController();
  const onAbort = (): void => ctl.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  let idle: NodeJS.Timeout | undefined;
  const arm = (ms: number, why: string): void => {
    clearTimeout(idle);
    idle = setTimeout(() => ctl.abort(new TransientNodeError(`${label} ${why}`, `${p}_SSE_STALLED`)), ms);
  };
  const silent = `sent nothing, not even a keep-alive, for ${opts.idleTimeoutMs} ms`;
  try {
    if (signal.aborted) return;
    arm(opts.connectTimeoutMs, `did not answer within ${opts.connectTimeoutMs} ms`);
    let res: Response;
    try {
      res = await (opts.fetch ?? fetch)(url, { headers: { accept: 'text/event-stream' }, signal: ctl.signal });
    } catch (err) {
      if (signal.aborted) return;
      if (ctl.signal.reason instanceof NodeError) throw ctl.signal.reason;
      const e = err as Error & { cause?: { code?: string; message?: string } };
      throw new TransientNodeError(`${label} unreachable: ${e.cause?.code ?? e.cause?.message ?? e.message}`, `${p}_UNREACHABLE`, undefined, { cause: err });
    }
    if (res.status === 422 || res.status === 404) {
      const text = (await res.text().catch(() => '')).trim();
      throw new NodeError(`${label} refused: HTTP ${res.status} ${JSON.stringify(text.slice(0, 200))}`, `${p}_SSE_REFUSED`, { status: res.status });
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel().catch(() => undefined);
      throw new TransientNodeError(`${label} answered HTTP ${res.status}`, `${p}_HTTP_ERROR`, { status: res.status });
    }
    const type = res.headers.get('content-type') ?? '';
    if (!type.startsWith('text/event-stream')) {
      await res.body.cancel().catch(() => undefined);
      throw new TransientNodeError(`${label} answered ${JSON.stringify(type)}, not text/event-stream`, `${p}_BAD_ANSWER`);
    }
    opts.onOpen?.();
    const queue: EventSourceMessage[] = [];
    const parser = createParser({
      onEvent: (message) => queue.push(message),
      onError: (err) => opts.onMalformed?.(new TransientNodeError(`${label} sent a malformed frame: ${err.message}`, `${p}_BAD_ANSWER`)),
    });
    const decoder = new TextDecoder();
    const reader = res.body.getReader();
    for (;;) {
      arm(opts.idleTimeoutMs, silent);
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (err) {
        if (signal.aborted) return;
        if (ctl.signal.reason instanceof NodeError) throw ctl.signal.reason;
        throw new TransientNodeError(`${label} connection cut: ${(err as Error).message}`, `${p}_SSE_CUT`, undefined, { cause: err });
      }
      if (chunk.done) return;
      parser.feed(decoder.decode(chunk.value, { stream: true }));
      clearTimeout(idle);
      // a handler that throws ends the stream with its error; an abort meanwhile ends it quietly
      for (let i = 0; i < queue.length && !signal.aborted; i++) await opts.onEvent(queue[i]!);
      queue.length = 0;
      if (signal.aborted) return;
    }
  } finally {
    clearTimeout(idle);
    signal.removeEventListener('abort', onAbort);
    ctl.abort();
  }
}
