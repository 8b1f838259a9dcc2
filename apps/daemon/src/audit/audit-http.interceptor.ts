import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor, SetMetadata } from '@nestjs/common';
import type { Request, Response } from 'express';
import { from, mergeMap, type Observable } from 'rxjs';
import { actorOf } from '../auth/principal.js';
import { ApiError } from '../common/api-error.js';
import { AuditService } from './audit.service.js';

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const CHANGES_NOTHING = 'anchorflow:changes-nothing';

/** A POST that only computes an answer (layout, verification): not a state change, not audited. */
export const ChangesNothing = (): MethodDecorator => SetMetadata(CHANGES_NOTHING, true);
const API_PREFIX = '/api/v1/';

/** `WorkflowsController` → `workflows`. */
function resourceOf(controller: string): string {
  const name = controller.replace(/Controller$/, '');
  return name.charAt(0).toLowerCase() + name.slice(1);
}

const singular = (segment: string): string => segment.replace(/ies$/, 'y').replace(/s$/, '');

/**
 * What the entry is about: the execution a call started (`{executionId}`, or the execution a `?wait` run
 * returns), the resource a POST to a collection created (`POST /workflows` → `workflow:<new id>`), else
 * the resource named by the route's `:id` (`/workflows/:id/activate` → `workflow:<id>`), else the route
 * template (never the raw path: it may carry a resume token).
 */
export function targetOf(route: string, params: Record<string, string>, result: Record<string, unknown> | undefined): string {
  if (typeof result?.executionId === 'string') return `execution:${result.executionId}`;
  const segments = route.split('/').filter(Boolean);
  const last = segments.at(-1);
  // a plural last segment is a collection: what came back is the member just created
  if (typeof result?.id === 'string' && last && !last.startsWith(':') && last.endsWith('s')) return `${singular(last)}:${result.id}`;
  const idAt = segments.lastIndexOf(':id');
  if (idAt > 0 && params.id) return `${singular(segments[idAt - 1]!)}:${params.id}`;
  return route;
}

/**
 * Records every state-changing call under /api/v1 (POST, PUT, PATCH, DELETE) in two entries, with the
 * caller as actor (issue 17: never dropped, fail closed):
 *
 * 1. `<action>.attempt` BEFORE the handler runs, and the handler runs only once that entry is committed
 *    (group commit with whatever else is waiting). When it cannot be (buffer saturated, database not
 *    taking entries within 5 s) the request fails with 503 `AUDIT_UNAVAILABLE` and changes nothing. So
 *    every change made through the API has a durable entry, whatever happens next (a crash included).
 * 2. `<action>` after a 2xx/3xx answer (with the ids the answer names: the new workflow's id, the
 *    execution started), or `<action>.failed` with the status for a 4xx/5xx. This one is buffered; if it
 *    is lost in a crash, the attempt entry without an outcome says so.
 *
 * Request and response bodies are not stored (they may hold credentials or an API key shown once);
 * the ids the response names are. The target is known before the change for routes naming an `:id`;
 * for a create it is the route until the outcome entry names the new id.
 */
@Injectable()
export class AuditHttpInterceptor implements NestInterceptor {
  constructor(private readonly audit: AuditService) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    if (!STATE_CHANGING.has(req.method) || !(req.originalUrl ?? req.url).startsWith(API_PREFIX)) return next.handle();
    if (Reflect.getMetadata(CHANGES_NOTHING, context.getHandler()) === true) return next.handle();
    const res = http.getResponse<Response>();
    const unavailable = (): ApiError => {
      res.setHeader('Retry-After', '5');
      return new ApiError(503, 'AUDIT_UNAVAILABLE', 'the audit log is not being written (is the database reachable?): state-changing requests are refused until it catches up');
    };
    // fail closed: a change whose audit entry would be dropped is not made (issue 17)
    if (this.audit.writer.saturated) throw unavailable();
    const action = `${resourceOf(context.getClass().name)}.${context.getHandler().name}`;
    const route = `${req.baseUrl ?? ''}${(req.route as { path?: string } | undefined)?.path ?? ''}` || (req.originalUrl ?? req.url).split('?')[0]!;
    const params = { ...(req.params as Record<string, string>) };
    const actor = actorOf(req);
    const requestId = (req as { id?: unknown }).id;
    const attempt = {
      actor,
      action: `${action}.attempt`,
      target: targetOf(route, params, undefined),
      at: new Date(),
      details: { method: req.method, route, params, requestId, ip: req.ip },
    };
    return from(this.audit.writer.recordDurable(attempt).catch(() => { throw unavailable(); })).pipe(
      mergeMap(() => {
        // the body a handler returns or sends through @Res(): only its ids are kept
        let result: Record<string, unknown> | undefined;
        const json = res.json;
        res.json = function (this: Response, body?: unknown) {
          if (body && typeof body === 'object' && !Array.isArray(body)) result = body as Record<string, unknown>;
          return json.call(this, body);
        } as Response['json'];
        res.once('finish', () => {
          const ok = res.statusCode < 400;
          this.audit.record({
            actor,
            action: ok ? action : `${action}.failed`,
            target: targetOf(route, params, ok ? result : undefined),
            at: new Date(),
            details: {
              method: req.method,
              route,
              params,
              status: res.statusCode,
              requestId,
              ip: req.ip,
              id: ok ? result?.id : undefined,
              executionId: ok ? result?.executionId : undefined,
              version: ok ? result?.version : undefined,
            },
          });
        });
        return next.handle();
      }),
    );
  }
}
