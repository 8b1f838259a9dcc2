/**
 * A real HTTP server on 127.0.0.1 that records every request and answers as a test tells it:
 * a status and body, a delay, or hanging until a gate is released. `waitFor` resolves on the request
 * matching a predicate (already received or still to come) — no sleeps.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  /** 0-based arrival order (counted when the body has been read) */
  index: number;
  method: string;
  /** path without the query string */
  path: string;
  /** path with the query string */
  url: string;
  query: URLSearchParams;
  /** lower-cased names */
  headers: http.IncomingHttpHeaders;
  idempotencyKey: string | undefined;
  body: string;
  /** body parsed as JSON, when it is JSON */
  json: unknown;
  receivedAt: number;
}

export interface ReceiverReply {
  status?: number;
  headers?: Record<string, string>;
  /** objects are sent as JSON; strings as they are */
  body?: unknown;
  /** wait this long before answering */
  delayMs?: number;
  /** answer only once this resolves (see `gate()`) */
  until?: Promise<unknown>;
}

/** `nth` counts requests to the same path, from 1. */
export type Responder = (req: RecordedRequest, nth: number) => ReceiverReply | Promise<ReceiverReply>;

export interface Gate {
  readonly promise: Promise<void>;
  release(): void;
  readonly released: boolean;
}

export function gate(): Gate {
  let release!: () => void;
  let released = false;
  const promise = new Promise<void>((r) => { release = r; });
  return { promise, release: () => { released = true; release(); }, get released() { return released; } };
}

export interface HttpReceiver {
  readonly url: string;
  readonly port: number;
  readonly requests: readonly RecordedRequest[];
  /** how `path` answers from now on (a function, or replies used in turn — the last one repeats); `nth` restarts at 1 */
  on(path: string, responder: Responder | ReceiverReply | ReceiverReply[]): void;
  /** requests to `path` (exact, without query) */
  requestsTo(path: string): RecordedRequest[];
  count(path: string): number;
  /** the first request (already received or to come) matching the predicate */
  waitFor(predicate: (r: RecordedRequest) => boolean, options?: { timeoutMs?: number; what?: string }): Promise<RecordedRequest>;
  /** resolves once `n` requests match the predicate */
  waitForCount(predicate: (r: RecordedRequest) => boolean, n: number, options?: { timeoutMs?: number; what?: string }): Promise<RecordedRequest[]>;
  /** requests currently held open (not yet answered) */
  pending(): number;
  reset(): void;
  close(): Promise<void>;
}

const DEFAULT_REPLY: ReceiverReply = { status: 200, body: { ok: true } };

export async function startHttpReceiver(): Promise<HttpReceiver> {
  const requests: RecordedRequest[] = [];
  const routes = new Map<string, Responder>();
  const perPath = new Map<string, number>();
  const listeners = new Set<() => void>();
  let open = 0;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const parsedUrl = new URL(req.url ?? '/', 'http://receiver');
        let json: unknown;
        try { json = raw ? JSON.parse(raw) : undefined; } catch { json = undefined; }
        const key = req.headers['idempotency-key'];
        const rec: RecordedRequest = {
          index: requests.length,
          method: req.method ?? '',
          path: parsedUrl.pathname,
          url: req.url ?? '/',
          query: parsedUrl.searchParams,
          headers: req.headers,
          idempotencyKey: Array.isArray(key) ? key[0] : key,
          body: raw,
          json,
          receivedAt: Date.now(),
        };
        requests.push(rec);
        const nth = (perPath.get(rec.path) ?? 0) + 1;
        perPath.set(rec.path, nth);
        for (const l of [...listeners]) l();
        open++;
        try {
          const responder = routes.get(rec.path);
          const reply = responder ? await responder(rec, nth) : DEFAULT_REPLY;
          if (reply.until) await reply.until;
          if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
          if (res.destroyed || res.writableEnded) return;
          const body = reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
          const headers: Record<string, string> = { ...(typeof reply.body === 'object' && reply.body !== null ? { 'content-type': 'application/json' } : {}), ...reply.headers };
          res.writeHead(reply.status ?? 200, headers);
          res.end(body);
        } catch (err) {
          if (!res.headersSent && !res.destroyed) { res.writeHead(599); res.end(String(err)); }
        } finally {
          open--;
        }
      })();
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;

  const describe = (): string => requests.map((r) => `  #${r.index} ${r.method} ${r.url} key=${r.idempotencyKey ?? '-'}`).join('\n') || '  (none)';

  const waitForCount = (predicate: (r: RecordedRequest) => boolean, n: number, options: { timeoutMs?: number; what?: string } = {}): Promise<RecordedRequest[]> => {
    const timeoutMs = options.timeoutMs ?? 20_000;
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const matched = requests.filter(predicate);
        if (matched.length >= n) {
          cleanup();
          resolve(matched);
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`receiver: ${n} request(s) matching ${options.what ?? 'the predicate'} did not arrive within ${timeoutMs} ms (got ${requests.filter(predicate).length}); received:\n${describe()}`));
      }, timeoutMs);
      const listener = (): void => { check(); };
      const cleanup = (): void => { clearTimeout(timer); listeners.delete(listener); };
      if (!check()) listeners.add(listener);
    });
  };

  return {
    url, port,
    get requests() { return requests; },
    on(path, responder) {
      perPath.delete(path);
      if (typeof responder === 'function') { routes.set(path, responder); return; }
      const list = Array.isArray(responder) ? responder : [responder];
      routes.set(path, (_req, nth) => list[Math.min(nth, list.length) - 1] ?? DEFAULT_REPLY);
    },
    requestsTo: (path) => requests.filter((r) => r.path === path),
    count: (path) => requests.filter((r) => r.path === path).length,
    waitFor: async (predicate, options) => (await waitForCount(predicate, 1, options))[0]!,
    waitForCount,
    pending: () => open,
    reset() { requests.length = 0; perPath.clear(); },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
