import type { JsonValue } from '@anchorflow/security';

// eslint-disable-next-line no-control-regex -- U+0000 is exactly what jsonb refuses
const NUL = /\u0000/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
/** the same without the global flag: `test` on a /g regex keeps state between calls */
const HAS_LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** U+0000 or any surrogate: a string without one needs no repair (one scan of a character class, for every audited string) */
// eslint-disable-next-line no-control-regex -- U+0000 is exactly what is looked for
const MAYBE_UNSTORABLE = /[\u0000\uD800-\uDFFF]/;

/** A string jsonb and canonical JSON accept (U+0000 and lone surrogates → U+FFFD), cut at `max` chars. */
export function toStorableString(s: string, max = 2000): string {
  if (s.length <= max && !MAYBE_UNSTORABLE.test(s)) return s;
  let out = s.length > max ? `${s.slice(0, max)}…[${s.length - max} more chars]` : s;
  if (out.includes('\u0000')) out = out.replace(NUL, '\uFFFD');
  return HAS_LONE_SURROGATE.test(out) ? out.replace(LONE_SURROGATE, '\uFFFD') : out;
}

export interface StorableOptions {
  /** longer strings are cut (with a marker) so one entry cannot bloat the log; default 2,000 */
  maxString?: number;
  /** deeper values become '[too deep]'; default 16 */
  maxDepth?: number;
  /** more array items / object members are cut; default 100 */
  maxItems?: number;
}

/**
 * A JSON value that PostgreSQL's jsonb accepts and `canonicalJson` can hash, whatever went in: jsonb
 * refuses U+0000 and canonical JSON refuses lone surrogates (both become U+FFFD), non-finite numbers
 * become null, bigints strings, Dates ISO strings, undefined members are dropped, long strings and
 * big or deep structures are cut. An audit entry must never be unwritable because of its details.
 */
export function toStorableJson(value: unknown, options: StorableOptions = {}): JsonValue {
  const maxString = options.maxString ?? 2000;
  const maxDepth = options.maxDepth ?? 16;
  const maxItems = options.maxItems ?? 100;
  const seen = new Set<object>();

  const str = (s: string): string => toStorableString(s, maxString);

  const walk = (v: unknown, depth: number): JsonValue | undefined => {
    switch (typeof v) {
      case 'string': return str(v);
      case 'number': return Number.isFinite(v) ? v : null;
      case 'boolean': return v;
      case 'bigint': return v.toString();
      case 'undefined': case 'function': case 'symbol': return undefined;
    }
    if (v === null) return null;
    if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
    if (depth >= maxDepth) return '[too deep]';
    const obj = v as object;
    if (seen.has(obj)) return '[circular]';
    seen.add(obj);
    try {
      if (Array.isArray(obj)) {
        const out: JsonValue[] = [];
        for (let i = 0; i < obj.length && i < maxItems; i++) out.push(walk(obj[i], depth + 1) ?? null);
        if (obj.length > maxItems) out.push(`[${obj.length - maxItems} more items]`);
        return out;
      }
      const source = typeof (obj as { toJSON?: unknown }).toJSON === 'function' ? (obj as { toJSON(): unknown }).toJSON() : obj;
      if (source !== obj) return walk(source, depth);
      const out: Record<string, JsonValue> = {};
      let n = 0;
      for (const [key, item] of Object.entries(obj)) {
        if (n === maxItems) {
          out['…'] = `[${Object.keys(obj).length - maxItems} more members]`;
          break;
        }
        const walked = walk(item, depth + 1);
        if (walked === undefined) continue;
        out[str(key)] = walked;
        n++;
      }
      return out;
    } finally {
      seen.delete(obj);
    }
  };
  return walk(value, 0) ?? null;
}
