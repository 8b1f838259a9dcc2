import { can } from '@anchorflow/security';
import { type CredentialsAccessor, type NodeLogger, WebhookRejection, silentLogger } from '@anchorflow/plugin-sdk';
import type { IncomingHttpHeaders } from 'node:http';
import type { AuthPrincipal } from '../auth/principal.js';
import { ApiError } from '../common/api-error.js';
import type { WebhookRoute } from '../triggers/webhook-index.js';
import type { WebhookRequest } from './commands/handle-webhook/handle-webhook.command.js';

export interface WebhookGateDeps {
  /** the API's authenticator (exposure `key`); absent: such webhooks refuse every call */
  authenticate?: (headers: IncomingHttpHeaders) => Promise<AuthPrincipal>;
  credentials: CredentialsAccessor;
  /** epoch ms on the engine's clock */
  now: () => number;
  logger?: (route: WebhookRoute) => NodeLogger;
}

/**
 * Every check a /hooks request passes before an execution starts, in one place (issue 11 and 17), in this
 * order: the body's size (413), who may call by the route's exposure (`key`: an API key or token whose
 * role has executions:run, 401/403; `signed` and any node-level check: the node type's `verify`, 401),
 * then the trigger's rate limit (429; only admitted callers count, so strangers cannot use up a
 * sender's quota). A refusal throws ApiError and nothing starts. The router (404/405) runs before it.
 */
export class WebhookGate {
  /** per trigger (workflow/node): the current fixed window */
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(private readonly deps: WebhookGateDeps) {}

  async admit(route: WebhookRoute, request: WebhookRequest): Promise<void> {
    if (route.maxBodyBytes !== undefined) {
      const size = request.rawBody?.byteLength ?? Number(request.headers['content-length'] ?? 0);
      if (size > route.maxBodyBytes) throw new ApiError(413, 'PAYLOAD_TOO_LARGE', `the body is ${size} bytes; /hooks/${route.path} accepts at most ${route.maxBodyBytes}`, { maxBodyBytes: route.maxBodyBytes });
    }
    if (route.exposure === 'key') await this.requireKey(route, request);
    if (route.exposure === 'signed' && !route.capability.verify) {
      // a node type that claims signed exposure must check something: refuse rather than run unverified
      throw new ApiError(401, 'SIGNATURE_INVALID', `/hooks/${route.path} is signed but its node type checks no signature`);
    }
    if (route.capability.verify) {
      try {
        await route.capability.verify(request, { params: route.params, credentials: this.deps.credentials, logger: this.deps.logger?.(route) ?? silentLogger, now: this.deps.now });
      } catch (err) {
        if (err instanceof WebhookRejection) throw new ApiError(err.status, err.code, err.message);
        throw err;
      }
    }
    if (route.rateLimit) this.count(route, route.rateLimit);
  }

  private async requireKey(route: WebhookRoute, request: WebhookRequest): Promise<void> {
    if (!this.deps.authenticate) throw new ApiError(401, 'UNAUTHORIZED', `/hooks/${route.path} needs an API key, and this daemon has no key store`);
    const principal = await this.deps.authenticate(request.headers as IncomingHttpHeaders);
    if (!can(principal.role, 'executions:run')) {
      throw new ApiError(403, 'FORBIDDEN', `/hooks/${route.path} starts executions: role '${principal.role}' lacks permission 'executions:run'`, { role: principal.role, permission: 'executions:run' });
    }
  }

  private count(route: WebhookRoute, limit: { limit: number; windowMs: number }): void {
    const key = `${route.workflowId}/${route.nodeId}`;
    const now = this.deps.now();
    let window = this.windows.get(key);
    if (!window || now - window.start >= limit.windowMs) {
      if (this.windows.size > 10_000) this.prune(now, limit.windowMs);
      this.windows.set(key, (window = { start: now, count: 0 }));
    }
    if (window.count >= limit.limit) {
      const retryAfterSec = Math.max(1, Math.ceil((window.start + limit.windowMs - now) / 1000));
      throw new ApiError(429, 'TOO_MANY_REQUESTS', `/hooks/${route.path} accepts at most ${limit.limit} requests per ${limit.windowMs / 1000} s; retry in ${retryAfterSec} s`, { retryAfterSec, limit: limit.limit, windowMs: limit.windowMs });
    }
    window.count++;
  }

  private prune(now: number, windowMs: number): void {
    for (const [key, w] of this.windows) if (now - w.start >= windowMs) this.windows.delete(key);
  }
}
