import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { can } from '@anchorflow/security';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { ApiError } from '../common/api-error.js';
import { ROOT_LOGGER } from '../logging/logging.tokens.js';
import { AuthEvents } from './auth-events.js';
import { AUTHENTICATOR } from './auth.tokens.js';
import { ROUTE_ACCESS, type RouteAccess } from './access.decorators.js';
import type { Authenticator } from './authenticator.js';
import { setPrincipal } from './principal.js';

/**
 * The global guard (APP_GUARD) on every HTTP route: reads the route's declared access (see
 * access.decorators.ts), authenticates the request (API key or editor token) and checks the role's
 * permission with `can()`. 401 for missing/invalid/expired/revoked credentials, 403 for a valid identity
 * without the permission, and 403 for everyone on a route that declares nothing (fail closed: a
 * forgotten decorator closes a route instead of opening it).
 *
 * Non-HTTP contexts (NATS message handlers, a future socket gateway that authenticates its handshake)
 * are not this guard's business and pass.
 */
const routeOf = (context: ExecutionContext): string => `${context.getClass().name}.${context.getHandler().name}`;

@Injectable()
export class AuthGuard implements CanActivate {
  private readonly reported = new Set<string>();

  constructor(
    private readonly reflector: Reflector,
    @Inject(AUTHENTICATOR) private readonly authenticator: Authenticator,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
    private readonly events: AuthEvents,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const access = this.reflector.getAllAndOverride<RouteAccess | undefined>(ROUTE_ACCESS, [context.getHandler(), context.getClass()]);
    if (access?.kind === 'public') return true;

    const http = context.switchToHttp();
    const request = http.getRequest<Request>();
    let principal;
    try {
      principal = await this.authenticator.authenticate(request.headers);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        http.getResponse<Response>().setHeader('WWW-Authenticate', 'Bearer realm="anchorflow"');
        // who keeps failing, from where (issue 17); the presented secret is never logged
        const failed = { kind: 'failed' as const, code: err.code, client: request.ip ?? 'unknown', method: request.method, route: routeOf(context) };
        this.logger.info({ event: 'auth.failed', code: failed.code, client: failed.client, method: failed.method, route: failed.route }, 'authentication failed');
        this.events.emit(failed);
      }
      throw err;
    }
    setPrincipal(request, principal);

    if (!access) {
      const route = `${context.getClass().name}.${context.getHandler().name}`;
      if (!this.reported.has(route)) {
        this.reported.add(route);
        this.logger.error({ event: 'auth.undeclared-route', route }, `${route} declares no access (@RequirePermission, @RequireApiKey or @Public): denied to everyone`);
      }
      throw new ApiError(403, 'FORBIDDEN', 'this route declares no permission and is closed to everyone', { route });
    }
    if (access.kind === 'api-key') {
      if (principal.via !== 'api-key') {
        this.events.emit({ kind: 'denied', client: request.ip ?? 'unknown', keyId: principal.keyId, role: principal.role, permission: 'api-key', method: request.method, route: routeOf(context) });
        throw new ApiError(403, 'FORBIDDEN', 'this route needs an API key; an editor token is not accepted here');
      }
      return true;
    }
    if (!can(principal.role, access.permission)) {
      const denied = { kind: 'denied' as const, client: request.ip ?? 'unknown', keyId: principal.keyId, role: principal.role, permission: access.permission, method: request.method, route: routeOf(context) };
      this.logger.info({ event: 'auth.denied', client: denied.client, keyId: denied.keyId, role: denied.role, permission: denied.permission, method: denied.method, route: denied.route }, 'call denied');
      this.events.emit(denied);
      throw new ApiError(403, 'FORBIDDEN', `role '${principal.role}' lacks permission '${access.permission}'`, { role: principal.role, permission: access.permission });
    }
    return true;
  }
}
