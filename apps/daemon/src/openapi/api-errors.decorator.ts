/** Extra error answers a handler declares beyond what its route metadata implies (see ApiErrors). */
export const API_ERRORS = 'anchorflow:api-errors';

/**
 * Declares the 4xx/5xx answers a handler gives for its own reasons (409 conflicts, 405 …), each with a
 * one-line "when". 400/401/403/404/413/429/500/503 are derived from the route (see describeErrors).
 */
export function ApiErrors(errors: Record<number, string>): MethodDecorator {
  return (target, key, descriptor) => {
    Reflect.defineMetadata(API_ERRORS, errors, descriptor.value as object);
    return descriptor;
  };
}
