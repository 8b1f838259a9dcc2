/**
 * A protocol-faithful fake Casper 2.0 node and sidecar on 127.0.0.1, driven by the real casper-js-sdk:
 * - node: JSON-RPC 2.0 at `<nodeUrl>` (`…/rpc`)
 * - sidecar: the same JSON-RPC (it proxies the node) at `<sidecarUrl>/rpc`, and the SSE stream at
 *   `<sidecarUrl>/events?start_from=<id>`: an `ApiVersion` frame without id first, then the buffered events
 *   from `start_from` (inclusive), then live `BlockAdded` / `TransactionAccepted` / `TransactionProcessed`
 *   frames (`data:<json>` + `id:<u32>`), `:` keep-alive comments; 422 on a bad query, 404 on another path.
 *
 * Knobs for tests: take either server down (connections refused, open streams cut) and back up on the
 * same port, make it slow (it does the work, then answers late: the worst case for a client that gives
 * up and retries elsewhere), make it answer garbage, cut the SSE connections, produce blocks on demand.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { API_VERSION, FakeCasperChain, RpcFailure, type FakeBlock, type SseEvent } from './chain.js';

export { FakeCasperChain, RpcFailure, API_VERSION, mainPurse } from './chain.js';
export type { AcceptedCall, FakeBlock, SseEvent } from './chain.js';

export type AnswerMode = 'ok' | 'garbage' | 'http-503';

export interface FakeEndpoint {
  readonly port: number;
  /** JSON-RPC methods called, in order (requests that reached the server while it was up) */
  readonly rpcCalls: string[];
  /** answer every request this late (the work is done first) */
  delayMs: number;
  answer: AnswerMode;
  /** down: the port refuses connections and open connections are cut; up: listening again on the same port */
  setDown(down: boolean): Promise<void>;
}

export interface FakeSidecar extends FakeEndpoint {
  /** `start_from` of every SSE request, `null` when absent */
  readonly sseRequests: Array<string | null>;
  readonly openStreams: number;
  /** SSE requests answered with a stream so far (what waitForStreams counts; refused or garbage answers are not) */
  readonly streamsOpened: number;
  /** cuts every open SSE connection now (events emitted right after are missed by those streams) */
  dropSse(): void;
  /** resolves once `n` SSE requests have been answered with a stream (counting from the start) */
  waitForStreams(n: number, timeoutMs?: number): Promise<void>;
  /** open streams stop receiving anything, keep-alives included, while their connections stay open (a half-open TCP link) */
  freezeSse(): void;
  /** keep-alive comments written so far, all streams together */
  readonly keepAlivesSent: number;
  /** resolves once `n` keep-alives have been written in total */
  waitForKeepAlives(n: number, timeoutMs?: number): Promise<void>;
  /** resolves once no SSE stream is open (the clients hung up) */
  waitForNoStreams(timeoutMs?: number): Promise<void>;
}

export interface FakeCasper {
  readonly chain: FakeCasperChain;
  /** the node's JSON-RPC endpoint */
  readonly nodeUrl: string;
  /** the sidecar's base URL: JSON-RPC at `/rpc`, SSE at `/events` */
  readonly sidecarUrl: string;
  readonly node: FakeEndpoint;
  readonly sidecar: FakeSidecar;
  produceBlock(): FakeBlock;
  stop(): Promise<void>;
}

export interface FakeCasperOptions {
  chainName?: string;
  /** the id of the first event (a sidecar that has been running for a while numbers from there) */
  firstEventId?: number;
  /** keep-alive comment interval on SSE streams (the sidecar's default is 15 s) */
  keepAliveMs?: number;
}

export async function startFakeCasper(opts: FakeCasperOptions = {}): Promise<FakeCasper> {
  const chain = new FakeCasperChain(opts.chainName ?? 'casper-fake', { firstEventId: opts.firstEventId });
  const node = await startEndpoint((req, res, ep) => serveRpc(chain, req, res, ep));
  const streams = new Set<{ res: http.ServerResponse; off: () => void }>();
  const sseRequests: Array<string | null> = [];
  const streamWaiters: Array<{ n: number; resolve: () => void }> = [];
  const noStreamWaiters: Array<() => void> = [];
  const keepAliveWaiters: Array<{ n: number; resolve: () => void }> = [];
  let keepAlivesSent = 0;
  let streamsOpened = 0;
  const keepAliveMs = opts.keepAliveMs ?? 15_000;

  const sidecarEp = await startEndpoint((req, res, ep) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/rpc') return serveRpc(chain, req, res, ep);
    if (url.pathname !== '/events' && url.pathname !== '/events/') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end("invalid path: expected '/events' or '/events/sidecar'\n");
      return;
    }
    const keys = [...url.searchParams.keys()];
    const raw = url.searchParams.get('start_from');
    sseRequests.push(raw);
    let startFrom: number | undefined;
    if (keys.length > 0) {
      const n = raw !== null && /^\d+$/.test(raw) ? Number(raw) : NaN;
      if (keys.length > 1 || !Number.isInteger(n) || n > 0xffffffff) {
        res.writeHead(422, { 'content-type': 'text/plain' }).end("invalid query: expected single field 'start_from=<EVENT ID>'\n");
        return;
      }
      startFrom = n;
    }
    if (ep.answer !== 'ok') return answerBadly(res, ep.answer);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write(frame({ data: { ApiVersion: API_VERSION } }));
    if (startFrom !== undefined) for (const ev of chain.eventsFrom(startFrom)) res.write(frame(ev));
    const off = chain.onEvent((ev) => res.write(frame(ev)));
    const keepAlive = setInterval(() => {
      res.write(':\n\n');
      keepAlivesSent++;
      for (const w of keepAliveWaiters.splice(0)) {
        if (keepAlivesSent >= w.n) w.resolve();
        else keepAliveWaiters.push(w);
      }
    }, keepAliveMs);
    const entry = { res, off: () => { off(); clearInterval(keepAlive); } };
    streams.add(entry);
    res.on('close', () => {
      entry.off();
      streams.delete(entry);
      if (streams.size === 0) for (const w of noStreamWaiters.splice(0)) w();
    });
    streamsOpened++;
    for (const w of streamWaiters.splice(0)) {
      if (streamsOpened >= w.n) w.resolve();
      else streamWaiters.push(w);
    }
  });

  const dropSse = () => {
    for (const s of streams) {
      s.off();
      s.res.socket?.destroy();
    }
    streams.clear();
  };

  const freezeSse = () => {
    for (const s of streams) s.off(); // the sockets stay open, nothing more is written
  };

  const sidecar: FakeSidecar = {
    get port() { return sidecarEp.port; },
    get rpcCalls() { return sidecarEp.rpcCalls; },
    get delayMs() { return sidecarEp.delayMs; },
    set delayMs(ms: number) { sidecarEp.delayMs = ms; },
    get answer() { return sidecarEp.answer; },
    set answer(mode: AnswerMode) { sidecarEp.answer = mode; },
    sseRequests,
    get openStreams() { return streams.size; },
    get streamsOpened() { return streamsOpened; },
    dropSse,
    waitForStreams(n: number, timeoutMs = 5000) {
      if (streamsOpened >= n) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`fake sidecar: ${n} SSE streams not opened within ${timeoutMs} ms (${streamsOpened} so far)`)), timeoutMs);
        streamWaiters.push({ n, resolve: () => { clearTimeout(timer); resolve(); } });
      });
    },
    freezeSse,
    get keepAlivesSent() { return keepAlivesSent; },
    waitForKeepAlives(n: number, timeoutMs = 5000) {
      if (keepAlivesSent >= n) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`fake sidecar: ${n} keep-alives not sent within ${timeoutMs} ms (${keepAlivesSent} so far)`)), timeoutMs);
        keepAliveWaiters.push({ n, resolve: () => { clearTimeout(timer); resolve(); } });
      });
    },
    waitForNoStreams(timeoutMs = 5000) {
      if (streams.size === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`fake sidecar: ${streams.size} SSE streams still open after ${timeoutMs} ms`)), timeoutMs);
        noStreamWaiters.push(() => { clearTimeout(timer); resolve(); });
      });
    },
    async setDown(down: boolean) {
      if (down) dropSse();
      await sidecarEp.setDown(down);
    },
  };

  return {
    chain,
    nodeUrl: `http://127.0.0.1:${node.port}/rpc`,
    sidecarUrl: `http://127.0.0.1:${sidecarEp.port}`,
    node,
    sidecar,
    produceBlock: () => chain.produceBlock(),
    async stop() {
      dropSse();
      await Promise.all([node.setDown(true), sidecarEp.setDown(true)]);
    },
  };
}

function frame(ev: SseEvent): string {
  return `data:${JSON.stringify(ev.data)}\n${ev.id === undefined ? '' : `id:${ev.id}\n`}\n`;
}

function answerBadly(res: http.ServerResponse, mode: AnswerMode): void {
  if (mode === 'http-503') res.writeHead(503, { 'content-type': 'text/plain' }).end('upstream unavailable');
  else res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>502 Bad Gateway (not JSON)</body></html>');
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, ep: FakeEndpoint) => void | Promise<void>;

async function startEndpoint(handler: Handler): Promise<FakeEndpoint> {
  const sockets = new Set<Socket>();
  let server: http.Server | undefined;
  let port = 0;
  const ep: FakeEndpoint = {
    get port() { return port; },
    rpcCalls: [],
    delayMs: 0,
    answer: 'ok',
    async setDown(down: boolean) {
      if (down) {
        if (!server) return;
        const s = server;
        server = undefined;
        const closed = new Promise<void>((r) => s.close(() => r()));
        for (const sock of sockets) sock.destroy();
        s.closeAllConnections();
        await closed;
      } else if (!server) {
        server = await listen(port);
      }
    },
  };
  const listen = (p: number) => new Promise<http.Server>((resolve, reject) => {
    const s = http.createServer((req, res) => { void handler(req, res, ep); });
    s.on('connection', (sock) => { sockets.add(sock); sock.on('close', () => sockets.delete(sock)); });
    s.once('error', reject);
    s.listen(p, '127.0.0.1', () => { port = (s.address() as AddressInfo).port; resolve(s); });
  });
  server = await listen(0);
  return ep;
}

// The positional form of each method's params, as the OpenRPC schema orders them.
const PARAM_NAMES: Record<string, string[]> = {
  account_put_transaction: ['transaction'], account_put_deploy: ['deploy'],
  info_get_transaction: ['transaction_hash', 'finalized_approvals'], info_get_deploy: ['deploy_hash', 'finalized_approvals'],
  chain_get_block: ['block_identifier'], chain_get_block_transfers: ['block_identifier'], info_get_status: [],
};

async function serveRpc(chain: FakeCasperChain, req: http.IncomingMessage, res: http.ServerResponse, ep: FakeEndpoint): Promise<void> {
  if (req.method !== 'POST') {
    res.writeHead(405, { allow: 'POST' }).end();
    return;
  }
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  let id: unknown = null;
  let reply: Record<string, unknown>;
  try {
    let msg: any;
    try {
      msg = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch (err) {
      throw new RpcFailure(-32700, 'Parse error', String((err as Error).message));
    }
    id = msg?.id ?? null;
    if (msg?.jsonrpc !== '2.0' || typeof msg.method !== 'string') throw new RpcFailure(-32600, 'Invalid Request', 'expected a JSON-RPC 2.0 request object');
    ep.rpcCalls.push(msg.method);
    const params = Array.isArray(msg.params)
      ? Object.fromEntries((PARAM_NAMES[msg.method] ?? []).map((n, i) => [n, msg.params[i]]))
      : (msg.params ?? {});
    reply = { jsonrpc: '2.0', id, result: dispatch(chain, msg.method, params) };
  } catch (err) {
    if (!(err instanceof RpcFailure)) throw err;
    reply = { jsonrpc: '2.0', id, error: { code: err.code, message: err.rpcMessage, data: err.data } };
  }
  if (ep.delayMs > 0) await new Promise((r) => setTimeout(r, ep.delayMs));
  if (res.destroyed) return;
  if (ep.answer !== 'ok') return answerBadly(res, ep.answer);
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
}

function dispatch(chain: FakeCasperChain, method: string, params: any): unknown {
  switch (method) {
    case 'account_put_transaction': {
      const { kind, hash } = chain.putTransaction(params.transaction);
      return { api_version: API_VERSION, transaction_hash: kind === 'deploy' ? { Deploy: hash } : { Version1: hash } };
    }
    case 'account_put_deploy':
      return { api_version: API_VERSION, deploy_hash: chain.putDeploy(params.deploy).hash };
    case 'info_get_transaction':
      return chain.infoGetTransaction(params);
    case 'info_get_deploy':
      return chain.infoGetDeploy(params);
    case 'chain_get_block':
      return chain.chainGetBlock(params);
    case 'chain_get_block_transfers': {
      const got = chain.chainGetBlock(params) as any;
      return { api_version: API_VERSION, block_hash: got.block_with_signatures.block.Version2.hash, transfers: [] };
    }
    case 'info_get_status':
      return chain.infoGetStatus();
    default:
      throw new RpcFailure(-32601, 'Method not found', null);
  }
}
