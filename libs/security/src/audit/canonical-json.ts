import { canonicalJson as sdkCanonicalJson, CanonicalJsonError, type JsonValue } from '@anchorflow/plugin-sdk';
import { SecurityError } from '../errors/security-error.js';

export type { JsonValue };

/**
 * RFC 8785 canonical JSON. The implementation lives in @anchorflow/plugin-sdk because proof leaves of
 * the chain-anchor plugin (which may import only the SDK) must hash exactly what audit entries hash;
 * here its error becomes the security core's CANONICAL_JSON_INVALID.
 */
export function canonicalJson(value: unknown): string {
  try {
    return sdkCanonicalJson(value);
  } catch (err) {
    if (err instanceof CanonicalJsonError) throw new SecurityError('CANONICAL_JSON_INVALID', err.message, { path: err.path });
    throw err;
  }
}
