import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import type { Logger } from 'pino';
import { ROOT_LOGGER } from '../logging/logging.tokens.js';
import { routesOf } from './route-table.js';

/**
 * At start-up, names every route that declares no access (@RequirePermission, @RequireApiKey or
 * @Public): the AuthGuard denies those to everyone, so a forgotten decorator shows up here, in the
 * matrix test, and as 403s, never as an open route.
 */
@Injectable()
export class RouteAccessCheck implements OnApplicationBootstrap {
  constructor(
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
    @Inject(MetadataScanner) private readonly scanner: MetadataScanner,
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    const undeclared = routesOf(this.discovery, this.scanner, this.reflector).filter((r) => r.access === undefined);
    for (const r of undeclared) {
      this.logger.error(
        { event: 'auth.undeclared-route', route: `${r.controller}.${r.handler}`, method: r.method },
        `${r.method} ${r.path} (${r.controller}.${r.handler}) declares no access (@RequirePermission, @RequireApiKey or @Public): it is closed to everyone`,
      );
    }
  }
}
