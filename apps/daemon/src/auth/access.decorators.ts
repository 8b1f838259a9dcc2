import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiSecurity } from '@nestjs/swagger';
import { isPermission, type Permission } from '@anchorflow/security';

/**
 * Who may call a route. Every route must carry exactly one of these (on the method, or on the controller
 * for all its methods); the global AuthGuard denies a route that carries none (fail closed), the daemon
 * logs such routes at start-up, and the route × role matrix test (test/auth.e2e-spec.ts) fails on them.
 *
 *   @RequirePermission('workflows:write')   an API key or editor token whose role has the permission
 *   @RequireApiKey()                         any valid API key (not a token): POST /api/v1/auth/token
 *   @Public('why')                           no credentials at all (health, webhooks with their own HMAC)
 */
export const ROUTE_ACCESS = 'anchorflow:route-access';

export type RouteAccess =
  | { kind: 'permission'; permission: Permission }
  | { kind: 'api-key' }
  | { kind: 'public'; reason: string };

/** The route needs a credential whose role has `permission` (see ROLE_PERMISSIONS in @anchorflow/security). */
export function RequirePermission(permission: Permission): MethodDecorator & ClassDecorator {
  // a typo must fail at import time, not deny (or worse, mis-grant) at run time
  if (!isPermission(permission)) throw new Error(`@RequirePermission: unknown permission '${String(permission)}'`);
  const access: RouteAccess = { kind: 'permission', permission };
  return applyDecorators(SetMetadata(ROUTE_ACCESS, access), ApiBearerAuth(), ApiSecurity('api-key'));
}

/** Any valid, unrevoked, unexpired API key, whatever its role; editor tokens are refused. */
export function RequireApiKey(): MethodDecorator & ClassDecorator {
  const access: RouteAccess = { kind: 'api-key' };
  return applyDecorators(SetMetadata(ROUTE_ACCESS, access), ApiBearerAuth(), ApiSecurity('api-key'));
}

/** No credentials needed. Say why: public routes are the exception and get reviewed. */
export function Public(reason: string): MethodDecorator & ClassDecorator {
  const access: RouteAccess = { kind: 'public', reason };
  return SetMetadata(ROUTE_ACCESS, access);
}
