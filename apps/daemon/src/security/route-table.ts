import { type INestApplication, RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { ApplicationConfig, DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { RoutePathFactory } from '@nestjs/core/router/route-path-factory.js';
import { ROUTE_ACCESS, type RouteAccess } from '../auth/access.decorators.js';

/** One HTTP route the app serves, with the access it declares (undefined: none, which the guard denies). */
export interface RouteEntry {
  method: string;
  /** as registered, e.g. `/api/v1/workflows/:id`, `/hooks/*path` */
  path: string;
  controller: string;
  handler: string;
  access: RouteAccess | undefined;
  /** the handler function (its decorators' metadata: OpenAPI error answers, rate limit) */
  target: object;
  controllerType: object;
}

/**
 * Every route of the Nest app, from the controllers' metadata (the same path/method metadata and
 * global-prefix rules Nest's router uses), with the access each declares. Used at start-up to log routes
 * that declare nothing, and by the route × role matrix test. Needs DiscoveryModule in the app.
 */
export function collectRoutes(app: INestApplication): RouteEntry[] {
  const config = (app as unknown as { config?: ApplicationConfig }).config;
  return routesOf(app.get(DiscoveryService, { strict: false }), app.get(MetadataScanner, { strict: false }), app.get(Reflector, { strict: false }),
    config instanceof ApplicationConfig ? config : undefined);
}

/** collectRoutes from the pieces (providers can inject them); without `config`, paths lack the global prefix. */
export function routesOf(discovery: DiscoveryService, scanner: MetadataScanner, reflector: Reflector, config?: ApplicationConfig): RouteEntry[] {
  const paths = config ? new RoutePathFactory(config) : undefined;
  const globalPrefix = config ? config.getGlobalPrefix() : '';
  const routes: RouteEntry[] = [];
  for (const wrapper of discovery.getControllers()) {
    const type = wrapper.metatype as (new (...args: never[]) => object) | undefined;
    if (!type?.prototype) continue;
    const ctrlPath = Reflect.getMetadata(PATH_METADATA, type) as string | string[] | undefined;
    for (const name of scanner.getAllMethodNames(type.prototype)) {
      const handler = (type.prototype as Record<string, unknown>)[name];
      if (typeof handler !== 'function') continue;
      const methodPath = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
      const requestMethod = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
      if (methodPath === undefined || requestMethod === undefined) continue;
      const access = reflector.getAllAndOverride<RouteAccess | undefined>(ROUTE_ACCESS, [handler, type]);
      const full = paths
        ? paths.create({ ctrlPath: ctrlPath as string, methodPath: methodPath as string, globalPrefix }, requestMethod)
        : [`/${[ctrlPath, methodPath].flat().filter(Boolean).join('/')}`];
      for (const path of full) routes.push({ method: RequestMethod[requestMethod], path, controller: type.name, handler: name, access, target: handler, controllerType: type });
    }
  }
  return routes.sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
}
