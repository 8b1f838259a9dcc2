import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Role } from '@anchorflow/security';

/** Who made an authenticated request (set on the request by the AuthGuard). */
export interface AuthPrincipal {
  /** `api-key`: the key itself; `token`: an editor token exchanged for that key */
  via: 'api-key' | 'token';
  /** the API key id (the public part of the key; for tokens, the key the token was issued for) */
  keyId: string;
  role: Role;
  /** the key's name (API keys only; tokens carry no name) */
  keyName?: string;
  /** the token's `jti` (tokens only) */
  tokenId?: string;
}

/**
 * Where the guard leaves the principal: `request.principal` (a plain property, so that interceptors that
 * do not import this file, like the audit interceptor, can read `req.principal.keyId`).
 */
type WithPrincipal = { principal?: AuthPrincipal };

export function setPrincipal(request: object, principal: AuthPrincipal): void {
  (request as WithPrincipal).principal = principal;
}

/** The principal of a request, or undefined for public routes (and before the guard ran). */
export function principalOf(request: object | undefined): AuthPrincipal | undefined {
  return request ? (request as WithPrincipal).principal : undefined;
}

/**
 * Audit hook: the `actor` of an audit entry for this request: `key:<id>` of the API key behind it
 * (directly or through an editor token issued for that key), `anonymous` on public routes. Never contains
 * secret material. Usage: `actorOf(context.switchToHttp().getRequest())`.
 */
export function actorOf(request: object | undefined): string {
  const p = principalOf(request);
  return p ? `key:${p.keyId}` : 'anonymous';
}

/** Controller parameter: the authenticated principal (`@CurrentPrincipal() who: AuthPrincipal`). */
export const CurrentPrincipal = createParamDecorator((_data: unknown, ctx: ExecutionContext): AuthPrincipal | undefined =>
  principalOf(ctx.switchToHttp().getRequest<object>()),
);
