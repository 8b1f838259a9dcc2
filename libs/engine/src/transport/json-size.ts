/**
 * Sizes of node outputs for the output limits (a node's 32 MiB, an execution's quota), which only need
 * the exact size when an output comes near them. `JSON.stringify` per output just to learn it was a few
 * hundred bytes was ~2 % of a webhook call's CPU (issue 18); an upper bound is a fifth of that.
 */

/** UTF-8 bytes of `JSON.stringify(value)`; throws what it throws (a cycle, a bigint) */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '');
}

const { getPrototypeOf, prototype: OBJECT_PROTOTYPE } = Object;
const ARRAY_PROTOTYPE = Array.prototype;
const MAX_DEPTH = 64;

/**
 * An upper bound of `jsonBytes(value)`, or Infinity where it cannot tell (class instances, toJSON, deep
 * nesting, bigints): a string takes at most 6 bytes per UTF-16 unit (`\u0000`) plus its quotes, a number
 * at most 25 characters.
 */
export function jsonBytesBound(value: unknown, depth = 0): number {
  switch (typeof value) {
    case 'string':
      return 6 * value.length + 2;
    case 'number':
      return 25;
    case 'boolean':
      return 5;
    case 'undefined':
    case 'function':
    case 'symbol':
      return 4; // dropped, or null in an array
    case 'bigint':
      return Infinity;
  }
  if (value === null) return 4;
  if (depth > MAX_DEPTH) return Infinity;
  const proto = getPrototypeOf(value);
  let n = 2;
  if (proto === ARRAY_PROTOTYPE) {
    const a = value as unknown[];
    if (typeof (a as { toJSON?: unknown }).toJSON === 'function') return Infinity;
    for (let i = 0; i < a.length; i++) n += jsonBytesBound(a[i], depth + 1) + 1;
    return n;
  }
  if ((proto !== OBJECT_PROTOTYPE && proto !== null) || typeof (value as { toJSON?: unknown }).toJSON === 'function') return Infinity;
  const o = value as Record<string, unknown>;
  for (const k in o) {
    if (!Object.hasOwn(o, k)) return Infinity;
    n += 6 * k.length + 4 + jsonBytesBound(o[k], depth + 1);
  }
  return n;
}
