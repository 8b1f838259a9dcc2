import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor, SetMetadata } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Observable } from 'rxjs';
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
 * Records every state-changing call under /api/v1 (POST, PUT, PATCH, DELETE) once it has succeeded
 * (a 2xx/3xx status when the response is finished), with the caller as actor. Rejected calls (4xx/5xx)
 * are not state changes and are not recorded. Recording is a buffer push after the response went out.
 * Request and response bodies are not stored (they may hold credentials or an API key shown once);
 * the ids the response names are.
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
    // fail closed: a change whose audit entry would be dropped is not made (issue 17)
    if (this.audit.writer.saturated) {
      res.setHeader('Retry-After', '5');
      throw new ApiError(503, 'AUDIT_UNAVAILABLE', 'the audit log is not being written (is the database reachable?): state-changing requests are refused until it catches up');
    }
    const action = `${resourceOf(context.getClass().name)}.${context.getHandler().name}`;
    // the body a handler returns or sends through @Res(): only its ids are kept
    let result: Record<string, unknown> | undefined;
    const json = res.json;
    res.json = function (this: Response, body?: unknown) {
      if (body && typeof body === 'object' && !Array.isArray(body)) result = body as Record<string, unknown>;
      return json.call(this, body);
    } as Response['json'];
    res.once('finish', () => {
      if (res.statusCode >= 400) return;
      const route = `${req.baseUrl ?? ''}${(req.route as { path?: string } | undefined)?.path ?? ''}` || (req.originalUrl ?? req.url).split('?')[0]!;
      const params = { ...(req.params as Record<string, string>) };
      this.audit.record({
        actor: actorOf(req),
        action,
        target: targetOf(route, params, result),
        at: new Date(),
        details: {
          method: req.method,
          route,
          params,
          status: res.statusCode,
          requestId: (req as { id?: unknown }).id,
          ip: req.ip,
          id: result?.id,
          executionId: result?.executionId,
          version: result?.version,
        },
      });
    });
    return next.handle();
  }
}
