import { type CanActivate, type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import type { ThrottlerModuleOptions, ThrottlerOptions } from '@nestjs/throttler';
import type { SecurityConfig } from '../config/config.schema.js';

/**
 * The named rate limits of API routes (config `security.rateLimit.<name>`), each counted per client IP.
 * `security.rateLimit.hooks` is not one of them: webhook calls are counted in one place on both of their
 * paths, by HooksEndpoint's limiter (apps/daemon/src/hooks/hooks-endpoint.ts).
 */
export const RATE_LIMITS = ['auth'] as const;
export type RateLimitName = (typeof RATE_LIMITS)[number];

export const RATE_LIMIT = 'anchorflow:rate-limit';

/**
 * Counts requests to this route (or controller) against `security.rateLimit.<name>` per client IP; past
 * the limit the answer is 429 TOO_MANY_REQUESTS with Retry-After. Routes without it are not limited.
 */
export function RateLimit(name: RateLimitName): MethodDecorator & ClassDecorator {
  return SetMetadata(RATE_LIMIT, name);
}

/** ThrottlerModule-style options from config; a limit of 0 switches that limit off. */
export function throttlerOptions(config: SecurityConfig): ThrottlerModuleOptions & { throttlers: ThrottlerOptions[] } {
  return {
    throttlers: RATE_LIMITS.filter((name) => config.rateLimit[name].limit > 0).map((name) => ({
      name,
      limit: config.rateLimit[name].limit,
      ttl: config.rateLimit[name].ttlMs,
    })),
    errorMessage: 'too many requests; retry after the time in the Retry-After header',
  };
}

/**
 * The global rate-limit guard: @nestjs/throttler's ThrottlerGuard and in-memory storage, applying to a
 * route only the one limit its @RateLimit names. Registered before the AuthGuard so that failed
 * authentications count too (`POST /api/v1/auth/token` cannot be used to guess keys faster than the limit).
 *
 * @nestjs/throttler is CommonJS and requires the ESM @nestjs/common; jest's ESM loader refuses that
 * inside a static import graph, so the package is loaded here, once Nest itself is loaded.
 */
export async function createRateLimitGuard(config: SecurityConfig, reflector: Reflector): Promise<CanActivate> {
  const { ThrottlerGuard, ThrottlerStorageService } = await import('@nestjs/throttler');

  class RouteThrottlerGuard extends ThrottlerGuard {
    override async canActivate(context: ExecutionContext): Promise<boolean> {
      if (context.getType() !== 'http') return true;
      const name = this.reflector.getAllAndOverride<RateLimitName | undefined>(RATE_LIMIT, [context.getHandler(), context.getClass()]);
      const throttler = name && this.throttlers.find((t) => t.name === name);
      if (!throttler) return true;
      const ttl = throttler.ttl as number;
      return this.handleRequest({
        context,
        limit: throttler.limit as number,
        ttl,
        // as the "default" throttler the headers are the standard Retry-After and X-RateLimit-*, without a
        // name suffix; the counter stays per limit through the key
        throttler: { ...throttler, name: 'default' },
        blockDuration: ttl,
        getTracker: this.commonOptions.getTracker!,
        // one counter per limit and client, whatever the route (and no hash per request)
        generateKey: (_context, tracker) => `${name}:${tracker}`,
      });
    }
  }

  const guard = new RouteThrottlerGuard(throttlerOptions(config), new ThrottlerStorageService(), reflector);
  await guard.onModuleInit();
  return guard;
}
