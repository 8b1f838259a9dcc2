import { timingSafeEqual, createHash } from 'node:crypto';
import { Controller, Get, Headers, Inject, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../auth/access.decorators.js';
import { ApiError } from '../common/api-error.js';
import type { AnchorflowConfig } from '../config/config.schema.js';
import { APP_CONFIG } from '../config/config.token.js';
import { MetricsService } from './metrics.service.js';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** `Authorization: Bearer <token>` equals the configured token (constant time). */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header?.trim() ?? '');
  return match !== null && timingSafeEqual(digest(match[1]!), digest(token));
}

/**
 * GET /metrics (outside /api/v1, where Prometheus looks by default). Not behind API keys: a scraper
 * has no role. `metrics.enabled: false` answers 404. It wants `Authorization: Bearer <metrics.token>`
 * (Prometheus `authorization: { credentials: … }`); with no token set, it answers only when
 * `metrics.public: true` and refuses every scrape otherwise (issue 17: closed by default — the series
 * name workflows, node types and plugins).
 */
@ApiExcludeController()
@Controller()
@Public('Prometheus scrape endpoint: protected by its own bearer token (metrics.token), or public only when metrics.public is set')
export class MetricsController {
  constructor(
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AnchorflowConfig,
  ) {}

  @Get('metrics')
  async scrape(@Headers('authorization') authorization: string | undefined, @Res() res: Response): Promise<void> {
    if (!this.config.metrics.enabled) throw new ApiError(404, 'NOT_FOUND', 'metrics are disabled (metrics.enabled: false)');
    const { token, public: isPublic } = this.config.metrics;
    if (!token && !isPublic) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
      throw new ApiError(401, 'UNAUTHORIZED', 'metrics need a token: set metrics.token (ANCHORFLOW_METRICS_TOKEN) and scrape with Authorization: Bearer <token>, or set metrics.public: true');
    }
    if (token && !bearerMatches(authorization, token)) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
      throw new ApiError(401, 'UNAUTHORIZED', 'metrics need Authorization: Bearer <metrics.token>');
    }
    const body = await this.metrics.metrics();
    res.status(200).type(this.metrics.contentType).send(body);
  }
}
