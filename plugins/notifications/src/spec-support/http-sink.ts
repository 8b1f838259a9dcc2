/**
 * A real HTTP server on 127.0.0.1 recording every request (headers, raw body) and answering from a
 * per-path script: the replies are used in turn, the last one repeats. `waitFor(n)` resolves once n
 * requests arrived — no sleeps.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SinkRequest {
  method: string;
  path: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: unknown;
}

export interface SinkReply {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface HttpSink {
  readonly url: string;
  readonly requests: readonly SinkRequest[];
  /** replies for a path (exact, without query), used in turn; or a function of the request */
  on(path: string, replies: SinkReply[] | ((req: SinkRequest, nth: number) => SinkReply)): void;
  waitFor(count: number, timeoutMs?: number): Promise<SinkRequest[]>;
  close(): Promise<void>;
}

export async function startHttpSink(): Promise<HttpSink> {
  const requests: SinkRequest[] = [];
  const scripts = new Map<string, { replies: SinkReply[] | ((req: SinkRequest, nth: number) => SinkReply); nth: number }>();
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const url = req.url ?? '/';
      const path = url.split('?')[0]!;
      const r: SinkRequest = { method: req.method ?? 'GET', path, url, headers: req.headers, body, json };
      requests.push(r);
      const script = scripts.get(path);
      let reply: SinkReply = { status: 200, body: 'ok' };
      if (script) {
        script.nth++;
        reply = typeof script.replies === 'function' ? script.replies(r, script.nth) : script.replies[Math.min(script.nth, script.replies.length) - 1]!;
      }
      const payload = reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
      res.writeHead(reply.status, { ...(typeof reply.body === 'object' ? { 'content-type': 'application/json' } : {}), ...reply.headers });
      res.end(payload);
      for (const w of waiters.splice(0)) {
        if (requests.length >= w.count) w.resolve();
        else waiters.push(w);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    on(path, replies) {
      scripts.set(path, { replies, nth: 0 });
    },
    async waitFor(count, timeoutMs = 10_000) {
      if (requests.length < count) {
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(() => reject(new Error(`HTTP sink: ${requests.length} of ${count} requests within ${timeoutMs} ms`)), timeoutMs);
          waiters.push({ count, resolve: () => (clearTimeout(t), resolve()) });
        });
      }
      return requests.slice(0, count);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
