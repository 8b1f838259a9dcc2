import 'reflect-metadata';
import { type INestApplication, RequestMethod } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication, NestExpressBodyParserOptionsFor } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import type { Express } from 'express';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Logger as NestPinoLogger } from 'nestjs-pino';
import { AppModule, type AppModuleOptions } from './app.module.js';
import { verifyJsonDepth } from './common/json-depth.js';
import { isHookRequest, keepHookRawBody } from './common/raw-body.js';
import { buildOpenApiDocument } from './openapi-document.js';
import { DAEMON_METRICS } from './engine/engine.tokens.js';
import type { DaemonMetrics } from './core/daemon-metrics.js';
import { httpMetricsMiddleware } from './metrics/http-metrics.js';
import { requestIdMiddleware } from './logging/request-context.js';
import { applyHttpSecurity } from './security/http-hardening.js';
import { installHooksFastPath } from './hooks/hooks-endpoint.js';

export const API_PREFIX = 'api/v1';
export const DOCS_PATH = 'api/docs';
/** The built-in editor's static files (apps/editor/dist, built by `npm run build`), served at `/`. */
export const EDITOR_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../editor/dist');

/** Everything main.ts and the e2e specs share: prefix, body limits, logger, OpenAPI, shutdown hooks. */
export async function createApp(options: AppModuleOptions & { shutdownHooks?: boolean }): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(options), {
    bodyParser: false,
    bufferLogs: true,
    // long-polling requests (?wait, lastNode webhooks) must not hold shutdown up
    forceCloseConnections: true,
    // once shutdown starts, requests still arriving on open connections get 503 (see GracefulShutdown)
    return503OnClosing: true,
  });
  configureApp(app, options);
  if (options.shutdownHooks !== false) app.enableShutdownHooks(undefined, { useProcessExit: true });
  return app;
}

export function configureApp(app: NestExpressApplication, options: AppModuleOptions): void {
  app.useLogger(app.get(NestPinoLogger));
  app.disable('x-powered-by');
  // first: the request id every log line about the request carries, then the timing of every answer
  // (rejections by body parsers, guards and filters included)
  app.use(requestIdMiddleware());
  app.use(httpMetricsMiddleware(app.get<DaemonMetrics>(DAEMON_METRICS), API_PREFIX));
  // helmet headers, and CORS only for security.corsOrigins
  applyHttpSecurity(app, options.config.security);
  const limit = options.config.http.bodyLimit;
  // Nest only claims `verify` for itself with { rawBody: true }, which this app does not use
  // /hooks requests also keep their bytes (signed webhooks are verified over exactly what was sent)
  const verify = keepHookRawBody(verifyJsonDepth(options.config.http.maxJsonDepth) as Parameters<typeof keepHookRawBody>[0]);
  app.useBodyParser('json', { limit, strict: true, verify } as NestExpressBodyParserOptionsFor<'json'>);
  app.useBodyParser('urlencoded', { limit, extended: true, verify: keepHookRawBody() } as NestExpressBodyParserOptionsFor<'urlencoded'>);
  app.useBodyParser('text', { limit, type: 'text/*', verify: keepHookRawBody() } as NestExpressBodyParserOptionsFor<'text'>);
  // any other content type sent to /hooks: only its bytes (for the signature); the workflow gets no body
  app.useBodyParser('raw', { limit, type: isHookRequest, verify: keepHookRawBody() } as NestExpressBodyParserOptionsFor<'raw'>);
  // the built-in editor at / (hashed assets cached for good; index.html revalidated)
  if (existsSync(path.join(EDITOR_DIST, 'index.html'))) {
    app.useStaticAssets(EDITOR_DIST, {
      index: 'index.html',
      dotfiles: 'ignore',
      setHeaders: (res, file) => res.setHeader('Cache-Control', file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache'),
    });
  }
  app.setGlobalPrefix(API_PREFIX, { exclude: [{ path: 'hooks/*path', method: RequestMethod.ALL }, { path: 'metrics', method: RequestMethod.GET }] });
  const document = buildOpenApiDocument(app);
  SwaggerModule.setup(DOCS_PATH, app, document, { jsonDocumentUrl: `${DOCS_PATH}/openapi.json` });
  // also where NestJS users look first (Nest's default `<path>-json`)
  (app.getHttpAdapter().getInstance() as Express).get(`/${DOCS_PATH}-json`, (_req, res) => void res.json(document));
  // webhook calls with a JSON (or no) body skip Express and Nest (hooks-endpoint.ts)
  installHooksFastPath(app);
}
