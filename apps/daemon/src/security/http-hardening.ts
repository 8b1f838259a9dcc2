import type { INestApplication } from '@nestjs/common';
import helmet from 'helmet';
import type { SecurityConfig } from '../config/config.schema.js';

/**
 * Response headers and CORS for every route: helmet's defaults (nosniff, frame-ancestors none, a strict
 * CSP, no referrer leaks, HSTS for when TLS terminates in front) and, only when `security.corsOrigins`
 * lists origins, CORS for exactly those (no cookies are used, so no credentials mode). Body size and
 * JSON depth limits are set with the body parsers (http.bodyLimit, http.maxJsonDepth).
 */
export function applyHttpSecurity(app: INestApplication, config: SecurityConfig): void {
  // which X-Forwarded-For hops to believe (security.trustProxy); none by default
  if (config.trustProxy) (app.getHttpAdapter().getInstance() as { set(k: string, v: unknown): void }).set('trust proxy', config.trustProxy.split(',').map((s) => s.trim()));
  app.use(helmet());
  if (config.corsOrigins.length > 0) {
    app.enableCors({
      origin: [...config.corsOrigins],
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['Authorization', 'X-Api-Key', 'Content-Type', 'X-Request-Id'],
      exposedHeaders: ['X-Request-Id', 'X-Anchorflow-Execution-Id', 'Retry-After'],
      credentials: false,
      maxAge: 600,
    });
  }
}
