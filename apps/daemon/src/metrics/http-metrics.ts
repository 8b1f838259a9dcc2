import type { ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import type { DaemonMetrics } from '../core/daemon-metrics.js';

/**
 * Express middleware timing every request into anchorflow_http_request_duration_seconds. The route label
 * is the template Express matched (`/api/v1/executions/:id`, `/hooks/*path`), never the raw path, so ids
 * and tokens cannot blow up the label set; requests no route matched count as `unmatched`.
 */
export function httpMetricsMiddleware(metrics: DaemonMetrics, apiPrefix: string): (req: Request, res: Response, next: NextFunction) => void {
  // Nest's catch-all behind the global prefix, which answers 404 for unknown paths
  const notFoundRoute = `/${apiPrefix}*path`;
  return (req, res, next) => {
    timeResponse(metrics, req.method, res, () => {
      const template = (req.route as { path?: unknown } | undefined)?.path;
      const full = typeof template === 'string' ? `${req.baseUrl ?? ''}${template}` : undefined;
      return full === undefined || full === notFoundRoute ? 'unmatched' : full;
    });
    next();
  };
}

/** Times a response from now until it is sent, under the route `routeOf` names then (also the webhook fast path's). */
export function timeResponse(metrics: Pick<DaemonMetrics, 'httpRequest'>, method: string, res: Pick<ServerResponse, 'once' | 'statusCode'>, routeOf: () => string): void {
  const started = process.hrtime.bigint();
  res.once('finish', () => metrics.httpRequest(method, routeOf(), res.statusCode, Number(process.hrtime.bigint() - started) / 1e9));
}
