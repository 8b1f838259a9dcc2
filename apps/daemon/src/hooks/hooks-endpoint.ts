import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import { HttpException, Inject, Injectable } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import bytes from 'bytes';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { pinoHttp, type HttpLogger } from 'pino-http';
import proxyaddr from 'proxy-addr';
import { ApiError } from '../common/api-error.js';
import { errorAnswer } from '../common/api-exception.filter.js';
import { JsonTooDeepError, jsonDepthExceeds } from '../common/json-depth.js';
import type { AnchorflowConfig } from '../config/config.schema.js';
import { APP_CONFIG } from '../config/config.token.js';
import type { DaemonMetrics } from '../core/daemon-metrics.js';
import type { SecretRegistry } from '../core/secret-registry.js';
import { DAEMON_METRICS } from '../engine/engine.tokens.js';
import { httpLoggingOptions } from '../logging/logger.js';
import { requestIdMiddleware } from '../logging/request-context.js';
import { timeResponse } from '../metrics/http-metrics.js';
import { ROOT_LOGGER } from '../logging/logging.tokens.js';
import { SECRET_REGISTRY } from '../security/security.tokens.js';
import { normalizeHookPath } from '../triggers/webhook-index.js';
import { HandleWebhookCommand, type WebhookRequest, type WebhookResponse } from './commands/handle-webhook/handle-webhook.command.js';
import { HandleWebhookHandler } from './commands/handle-webhook/handle-webhook.handler.js';

export const EXECUTION_ID_HEADER = 'X-Anchorflow-Execution-Id';
/** the route label of webhook calls in anchorflow_http_request_duration_seconds (Express's template) */
export const HOOKS_ROUTE = '/hooks/*path';
const FAST_METHODS = new Set(['POST', 'PUT', 'PATCH', 'GET', 'DELETE']);
const TOO_MANY = 'too many requests; retry after the time in the Retry-After header';

/** `1mb`, `512kb`, `1048576` (http.bodyLimit, validated by the config schema) → bytes, as body-parser reads its `limit` (the same `bytes` package) */
export function parseByteLimit(limit: string): number {
  const n = bytes.parse(limit);
  if (n === null || !Number.isFinite(n)) throw new Error(`not a byte size: ${limit}`);
  return n;
}

/**
 * security.rateLimit.hooks: a fixed window of `ttlMs` per client address. One counter for both ways a
 * webhook call is served (the fast path and the Express route), so mixing body types does not double it.
 */
export class HookRateLimiter {
  private readonly windows = new Map<string, { start: number; hits: number }>();
  private lastSweep = 0;

  constructor(
    readonly limit: number,
    readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** counts one call; sets the X-RateLimit-* headers; throws 429 (Retry-After set) past the limit */
  hit(client: string, res: { setHeader(name: string, value: string | number): unknown }): void {
    const now = this.now();
    if (now - this.lastSweep > this.ttlMs && this.windows.size > 1_000) this.sweep(now);
    let window = this.windows.get(client);
    if (!window || now - window.start >= this.ttlMs) {
      window = { start: now, hits: 0 };
      this.windows.set(client, window);
    }
    window.hits++;
    const resetSec = Math.max(1, Math.ceil((window.start + this.ttlMs - now) / 1000));
    res.setHeader('X-RateLimit-Limit', this.limit);
    res.setHeader('X-RateLimit-Remaining', Math.max(0, this.limit - window.hits));
    res.setHeader('X-RateLimit-Reset', resetSec);
    if (window.hits > this.limit) {
      res.setHeader('Retry-After', resetSec);
      throw new ApiError(429, 'TOO_MANY_REQUESTS', TOO_MANY, { retryAfterSec: resetSec, limit: this.limit });
    }
  }

  private sweep(now: number): void {
    this.lastSweep = now;
    for (const [client, window] of this.windows) if (now - window.start >= this.ttlMs) this.windows.delete(client);
  }
}

/** the headers helmet sets with its defaults (all static), captured once instead of run per call */
function helmetHeaders(): Array<[string, string]> {
  const headers: Array<[string, string]> = [];
  const res = {
    setHeader: (name: string, value: unknown) => void headers.push([name, String(value)]),
    removeHeader: () => undefined,
    getHeader: () => undefined,
  };
  let done = false;
  helmet()({} as IncomingMessage, res as unknown as ServerResponse, () => {
    done = true;
  });
  if (!done) throw new Error('helmet did not answer synchronously: the webhook fast path cannot copy its headers');
  return headers;
}

const bodyError = (status: number, message: string, cause: object): HttpException => new HttpException(message, status, { cause });

/**
 * Serves `/hooks/*` (webhook triggers), the daemon's hot path. Everything a webhook call needs happens
 * here, in one place: the client's rate limit, the request → execution (HandleWebhookHandler: route,
 * size, exposure and signature checks, start, wait for `lastNode`) and the answer.
 *
 * Two ways in, one behaviour:
 * - the fast path (`fast`, installed in front of Express by `installHooksFastPath`): a JSON or empty body,
 *   not a CORS call. It does itself what the app's middleware does for every request — request id and
 *   log context, the request log line (log.requests, pino-http with the app's options), the request
 *   timer, helmet's headers, the body limit and JSON depth, the error body of ApiExceptionFilter — without
 *   Express routing, Nest guards, interceptors and rxjs, which cost more CPU per call than the workflow
 *   itself (BENCHMARKS.md, issue 18);
 * - every other webhook call (urlencoded, text and other bodies; compressed bodies; CORS; shutting down)
 *   goes through Express and `HooksController`, which calls `serve` too.
 *
 * Webhook calls change state only by starting executions, whose every event the audit log records; they
 * are not API calls and get no `<action>.attempt` entry (AuditHttpInterceptor covers /api/v1).
 */
@Injectable()
export class HooksEndpoint {
  readonly limiter: HookRateLimiter | undefined;
  private readonly bodyLimit: number;
  private readonly maxJsonDepth: number;
  private readonly headers = helmetHeaders();
  private readonly requestId = requestIdMiddleware();
  /** with log.requests: the request log line, made by pino-http with the app's own options */
  private readonly httpLog: HttpLogger | undefined;
  private readonly cors: boolean;

  constructor(
    private readonly handler: HandleWebhookHandler,
    @Inject(APP_CONFIG) config: AnchorflowConfig,
    @Inject(DAEMON_METRICS) private readonly metrics: DaemonMetrics,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
    @Inject(SECRET_REGISTRY) private readonly secrets: SecretRegistry,
  ) {
    const rule = config.security.rateLimit.hooks;
    this.limiter = rule.limit > 0 ? new HookRateLimiter(rule.limit, rule.ttlMs) : undefined;
    this.bodyLimit = parseByteLimit(config.http.bodyLimit);
    this.maxJsonDepth = config.http.maxJsonDepth;
    this.httpLog = config.log.requests ? pinoHttp(httpLoggingOptions(logger, config.log)) : undefined;
    this.cors = config.security.corsOrigins.length > 0;
  }

  /** the request, the execution, the answer (both paths); errors are thrown for the caller's error mapping */
  async serve(req: IncomingMessage, res: ServerResponse, client: string, path: string, query: Record<string, unknown>, body: unknown, rawBody: Uint8Array | undefined): Promise<WebhookResponse> {
    this.limiter?.hit(client, res);
    const request: WebhookRequest = { path: normalizeHookPath(path), method: req.method ?? 'GET', body, headers: req.headers, query, ...(rawBody ? { rawBody } : {}) };
    try {
      return await this.handler.execute(new HandleWebhookCommand(request));
    } catch (err) {
      const retryAfterSec = err instanceof ApiError && err.status === 429 ? (err.details as { retryAfterSec?: number } | undefined)?.retryAfterSec : undefined;
      if (retryAfterSec !== undefined && !res.headersSent) res.setHeader('Retry-After', String(retryAfterSec));
      throw err;
    }
  }

  /** Whether this call takes the fast path (decided before any byte of the body is read). */
  takes(req: IncomingMessage): boolean {
    const url = req.url;
    if (url === undefined || !url.startsWith('/hooks/') || !FAST_METHODS.has(req.method!)) return false;
    const h = req.headers;
    if (this.cors && h.origin !== undefined) return false;
    const encoding = h['content-encoding'];
    if (encoding !== undefined && encoding.toLowerCase() !== 'identity') return false;
    const type = h['content-type'];
    if (type === undefined) return true;
    const semi = type.indexOf(';');
    if ((semi < 0 ? type : type.slice(0, semi)).trim().toLowerCase() !== 'application/json') return false;
    // body-parser decodes other charsets (or refuses them): leave those to it
    return semi < 0 || /^\s*(charset\s*=\s*"?utf-8"?\s*)?$/i.test(type.slice(semi + 1));
  }

  /** Serves a call `takes` accepted; never throws (every failure is answered). */
  fast(req: IncomingMessage, res: ServerResponse, client: string): void {
    // the app's own first two middlewares: request id (and its log context), then the timer
    this.requestId(req, res, () => {
      timeResponse(this.metrics, req.method!, res, () => HOOKS_ROUTE);
      for (const [name, value] of this.headers) res.setHeader(name, value);
      this.httpLog?.(req, res);
      this.answer(req, res, client).catch((err: unknown) => this.fail(err, req, res));
    });
  }

  private async answer(req: IncomingMessage, res: ServerResponse, client: string): Promise<void> {
    const url = req.url!;
    const q = url.indexOf('?');
    const path = (q < 0 ? url : url.slice(0, q)).slice('/hooks'.length);
    const query = q < 0 ? {} : { ...parseQuery(url.slice(q + 1)) };
    const raw = await this.readBody(req);
    let body: unknown;
    if (raw !== undefined && req.headers['content-type'] !== undefined) body = this.parseJson(raw);
    const result = await this.serve(req, res, client, path, query, body, raw);
    if (result.executionId) res.setHeader(EXECUTION_ID_HEADER, result.executionId);
    send(res, result.status, result.body);
  }

  /** the body's bytes (undefined when the request has none), within http.bodyLimit */
  private readBody(req: IncomingMessage): Promise<Buffer | undefined> {
    const declared = req.headers['content-length'];
    if (declared === undefined && req.headers['transfer-encoding'] === undefined) return Promise.resolve(undefined);
    const limit = this.bodyLimit;
    const tooLarge = (length: number): HttpException => bodyError(413, 'request entity too large', { type: 'entity.too.large', limit, length });
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let length = 0;
      // past the limit the rest is read off and dropped (as body-parser does), and only then answered: a
      // client still sending would otherwise see its connection fail (EPIPE) instead of the 413
      let over = declared !== undefined && Number(declared) > limit;
      const onData = (chunk: Buffer): void => {
        length += chunk.length;
        if (over) return;
        if (length > limit) {
          over = true;
          chunks.length = 0;
          return;
        }
        chunks.push(chunk);
      };
      const onEnd = (): void => {
        cleanup();
        if (over) reject(tooLarge(Math.max(length, Number(declared ?? 0))));
        else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length));
      };
      const onError = (err: Error): void => {
        cleanup();
        reject(bodyError(400, 'request aborted', { type: 'request.aborted', message: err.message }));
      };
      const cleanup = (): void => {
        req.off('data', onData);
        req.off('end', onEnd);
        req.off('error', onError);
      };
      req.on('data', onData);
      req.on('end', onEnd);
      req.on('error', onError);
    });
  }

  /** body-parser's json with strict: an object or array, {} for an empty body, depth-checked first */
  private parseJson(raw: Buffer): unknown {
    if (raw.length === 0) return {};
    if (jsonDepthExceeds(raw, this.maxJsonDepth)) throw bodyError(400, 'request body nests too deeply', new JsonTooDeepError(this.maxJsonDepth));
    let text = raw.toString('utf8');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw bodyError(400, 'malformed JSON', { type: 'entity.parse.failed', message: (err as Error).message });
    }
    if (typeof value !== 'object' || value === null) {
      throw bodyError(400, 'malformed JSON', { type: 'entity.parse.failed', message: 'only an object or an array is accepted as the top level (strict JSON)' });
    }
    return value;
  }

  /** ApiExceptionFilter's answer, for the fast path */
  private fail(err: unknown, req: IncomingMessage, res: ServerResponse): void {
    const { status, body } = errorAnswer(err, this.logger, (b) => this.secrets.logs.redact(b), { id: (req as IncomingMessage & { id?: string }).id, method: req.method, url: req.url });
    if (res.headersSent) {
      res.end();
      return;
    }
    send(res, status, body);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body) ?? '';
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

/**
 * Puts the webhook fast path in front of the app's request listener (Express; socket.io attaches later
 * and wraps this one). Calls it does not take, and every call once shutdown began (Nest answers those
 * 503), go to Express unchanged.
 */
export function installHooksFastPath(app: NestExpressApplication): void {
  const endpoint = app.get(HooksEndpoint);
  const server = app.getHttpServer() as Server;
  const adapter = app.getHttpAdapter() as unknown as { isShuttingDown?: boolean; getInstance(): { get(setting: string): unknown } };
  const express = adapter.getInstance();
  const listeners = server.listeners('request') as Array<(req: IncomingMessage, res: ServerResponse) => void>;
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (adapter.isShuttingDown !== true && endpoint.takes(req)) {
      // the client as Express computes req.ip (security.trustProxy); trusting no proxy (the default),
      // that is the socket's peer, without parsing X-Forwarded-For
      const client = express.get('trust proxy')
        ? proxyaddr(req, express.get('trust proxy fn') as (addr: string, i: number) => boolean)
        : (req.socket.remoteAddress ?? '');
      endpoint.fast(req, res, client);
      return;
    }
    for (const listener of listeners) listener.call(server, req, res);
  });
}
