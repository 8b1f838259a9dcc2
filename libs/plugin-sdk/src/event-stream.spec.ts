import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NodeError } from './errors.js';
import { readEventStream, type EventSourceMessage, type EventStreamOptions } from './event-stream.js';

/** a real HTTP server on loopback; `handle` answers each request */
async function serve(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; server: Server }> {
  const server = createServer(handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`, server };
}
const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

const sse = (res: ServerResponse): void => {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
};

function options(over: Partial<EventStreamOptions> = {}): EventStreamOptions {
  return { label: 'test stream', codePrefix: 'TEST', signal: new AbortController().signal, connectTimeoutMs: 2000, idleTimeoutMs: 2000, onEvent: () => undefined, ...over };
}

const rejection = (p: Promise<unknown>): Promise<NodeError> => p.then(() => { throw new Error('resolved'); }, (e: unknown) => e as NodeError);

describe('readEventStream', () => {
  it('hands over events in order, awaiting each handler before the next, and resolves when the server ends the stream', async () => {
    const { url } = await serve((_req, res) => {
      sse(res);
      res.write(': keep-alive\n\n');
      res.write('id: 1\ndata: {"n":1}\n\nid: 2\ndata: {"n":2}\n\n');
      setImmediate(() => res.end('id: 3\ndata: {"n":3}\n\n'));
    });
    const seen: string[] = [];
    let busy = false;
    let opened = 0;
    await readEventStream(url, options({
      onOpen: () => { opened++; },
      onEvent: async (m: EventSourceMessage) => {
        expect(busy).toBe(false);
        busy = true;
        await new Promise((r) => setImmediate(r));
        seen.push(`${m.id}:${m.data}`);
        busy = false;
      },
    }));
    expect(opened).toBe(1);
    expect(seen).toEqual(['1:{"n":1}', '2:{"n":2}', '3:{"n":3}']);
  });

  it('a stream gone silent (no event, no keep-alive) is cut as stalled; keep-alives alone hold it open', async () => {
    let keepAlives = 0;
    const { url } = await serve((_req, res) => {
      sse(res);
      const t = setInterval(() => {
        // 8 keep-alives 40 ms apart (longer than the 150 ms limit in all), then silence on an open connection
        if (keepAlives++ < 8) res.write(': keep-alive\n\n');
        else clearInterval(t);
      }, 40);
      res.on('close', () => clearInterval(t));
    });
    const err = await rejection(readEventStream(url, options({ idleTimeoutMs: 150 })));
    expect(keepAlives).toBeGreaterThanOrEqual(8);
    expect(err).toBeInstanceOf(NodeError);
    expect(err.code).toBe('TEST_SSE_STALLED');
    expect(err.retryable).toBe(true);
    expect(err.message).toBe('test stream sent nothing, not even a keep-alive, for 150 ms');
  });

  it('names what is wrong: refused (404/422, not retryable), other statuses, a wrong content type, nobody listening', async () => {
    const { url } = await serve((req, res) => {
      if (req.url?.includes('bad')) return void res.writeHead(422).end("expected single field 'start_from'");
      if (req.url?.includes('busy')) return void res.writeHead(503).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    const refused = await rejection(readEventStream(`${url}?bad=1`, options()));
    expect([refused.code, refused.retryable]).toEqual(['TEST_SSE_REFUSED', false]);
    expect(refused.message).toContain("HTTP 422 \"expected single field 'start_from'\"");
    const busy = await rejection(readEventStream(`${url}?busy=1`, options()));
    expect([busy.code, busy.retryable, busy.message]).toEqual(['TEST_HTTP_ERROR', true, 'test stream answered HTTP 503']);
    const json = await rejection(readEventStream(url, options()));
    expect([json.code, json.message]).toEqual(['TEST_BAD_ANSWER', 'test stream answered "application/json", not text/event-stream']);

    const { server } = await serve(() => undefined);
    const port = (server.address() as AddressInfo).port;
    await new Promise((r) => server.close(r));
    const down = await rejection(readEventStream(`http://127.0.0.1:${port}/events`, options()));
    expect([down.code, down.retryable]).toEqual(['TEST_UNREACHABLE', true]);
    expect(down.message).toContain('ECONNREFUSED');
  });

  it('ends with the error a handler throws, and quietly when the signal aborts', async () => {
    const { url } = await serve((_req, res) => {
      sse(res);
      res.write('id: 1\ndata: x\n\n');
    });
    const boom = new Error('cannot store it');
    await expect(readEventStream(url, options({ onEvent: () => { throw boom; } }))).rejects.toBe(boom);

    const ctl = new AbortController();
    await readEventStream(url, options({ signal: ctl.signal, onEvent: () => ctl.abort() }));
    expect(ctl.signal.aborted).toBe(true);
  });
});
