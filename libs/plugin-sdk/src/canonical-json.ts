export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

// String#isWellFormed (ES2024, native in Node ≥ 20) is false exactly when a lone surrogate is present;
// a /u regex does the same job several times slower, which matters when hashing millions of entries.
const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

/**
 * RFC 8785 (JSON Canonicalization Scheme) for the JSON data model JavaScript produces:
 * - object members sorted by key as UTF-16 code-unit sequences (what Array#sort does for strings);
 * - no insignificant whitespace;
 * - numbers in ECMAScript Number#toString form (so -0 → 0, 1e21 → 1e+21, 0.000001 stays), NaN/±Infinity rejected;
 * - strings escaped like JSON.stringify (\b \t \n \f \r \" \\, other controls as \u00xx, everything else
 *   literal), lone surrogates rejected (I-JSON).
 * Input is taken the way JSON.stringify takes it (toJSON honoured, undefined members dropped, undefined in
 * arrays → null), so hashing a value and hashing its JSON round trip give the same digest. Types that
 * JSON.stringify would silently turn into `{}` (Map, Set, typed arrays, RegExp) and cycles throw instead.
 * Shared by audit entries (libs/security re-exports it) and the chain-anchor plugin's proof leaves
 * (ARCHITECTURE §9): changing it breaks both, and every proof already handed out.
 */
export function canonicalJson(value: unknown): string {
  const ctx: Context = { ancestors: [], path: [] };
  const out = serialize(value, ctx);
  if (out === undefined) throw invalid(`${typeof value} is not JSON data`, ctx);
  return out;
}

// The path is kept as a stack and only formatted on error, so large inputs pay nothing for it. Ancestors
// (for cycle detection) are a plain array: JSON is shallow, and includes() on a few items beats a Set.
// Module-level aliases for the hot path: global lookups are several times slower inside vm contexts
// (jest runs every suite in one), and the audit verifier calls this millions of times.
const { getPrototypeOf, keys: objectKeys, prototype: OBJECT_PROTOTYPE } = Object;
const { isArray, prototype: ARRAY_PROTOTYPE } = Array;
const { isFinite } = Number;
const stringify = JSON.stringify;

const NOT_JSON_TAGS = new Set(['Map', 'Set', 'WeakMap', 'WeakSet', 'RegExp', 'ArrayBuffer', 'SharedArrayBuffer', 'Promise']);

interface Context {
  ancestors: object[];
  path: Array<string | number>;
}

function serialize(input: unknown, ctx: Context): string | undefined {
  switch (typeof input) {
    case 'string':
      return quote(input, ctx);
    case 'number':
      if (!isFinite(input)) throw invalid(`${input} is not a JSON number`, ctx);
      return '' + input;
    case 'boolean':
      return input ? 'true' : 'false';
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    case 'bigint':
      throw invalid('bigint is not a JSON number (convert it to a string first)', ctx);
  }
  if (input === null) return 'null';
  let obj = input as object;
  const proto = getPrototypeOf(obj);
  if (proto !== OBJECT_PROTOTYPE && proto !== ARRAY_PROTOTYPE && proto !== null) {
    if (typeof (obj as { toJSON?: unknown }).toJSON === 'function') {
      const json = (obj as { toJSON: (key: string) => unknown }).toJSON('');
      if (json === null || typeof json !== 'object') return serialize(json, ctx);
      obj = json;
    }
    if (obj instanceof Number || obj instanceof String || obj instanceof Boolean) return serialize(obj.valueOf(), ctx);
    // The tag, unlike instanceof, also recognizes objects from another realm (vm contexts, workers).
    const tag = Object.prototype.toString.call(obj).slice(8, -1);
    if (NOT_JSON_TAGS.has(tag) || ArrayBuffer.isView(obj)) throw invalid(`${tag} is not JSON data`, ctx);
  } else if (typeof (obj as { toJSON?: unknown }).toJSON === 'function') {
    return serialize((obj as { toJSON: (key: string) => unknown }).toJSON(''), ctx);
  }
  if (ctx.ancestors.includes(obj)) throw invalid('circular reference', ctx);
  ctx.ancestors.push(obj);
  let out: string;
  if (isArray(obj)) {
    out = '[';
    for (let i = 0; i < obj.length; i++) {
      if (i > 0) out += ',';
      ctx.path.push(i);
      out += serialize(obj[i], ctx) ?? 'null';
      ctx.path.pop();
    }
    out += ']';
  } else {
    const record = obj as Record<string, unknown>;
    const keys = sortKeys(objectKeys(record));
    out = '{';
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      ctx.path.push(key);
      const member = serialize(record[key], ctx);
      if (member !== undefined) {
        out += out.length === 1 ? quote(key, ctx) : ',' + quote(key, ctx);
        out += ':' + member;
      }
      ctx.path.pop();
    }
    out += '}';
  }
  ctx.ancestors.pop();
  return out;
}

// Relational comparison of strings is by UTF-16 code units, exactly RFC 8785's order. Insertion sort wins
// clearly for the handful of keys real objects have; Array#sort takes over for big ones.
function sortKeys(keys: string[]): string[] {
  if (keys.length > 16) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i];
    let j = i - 1;
    while (j >= 0 && keys[j] > k) {
      keys[j + 1] = keys[j];
      j--;
    }
    keys[j + 1] = k;
  }
  return keys;
}

function quote(s: string, ctx: Context): string {
  if (!isWellFormed(s)) throw invalid('string contains a lone surrogate', ctx);
  return stringify(s);
}

/** A value outside the JSON subset RFC 8785 can canonicalize; `path` is a JSON path (`$.a[1]`). */
export class CanonicalJsonError extends TypeError {
  readonly code = 'CANONICAL_JSON_INVALID';
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
    this.name = 'CanonicalJsonError';
  }
}

function invalid(reason: string, ctx: Context): CanonicalJsonError {
  const path = '$' + ctx.path.map((p) => (typeof p === 'number' ? `[${p}]` : /^[A-Za-z_$][\w$]*$/.test(p) ? `.${p}` : `[${JSON.stringify(p)}]`)).join('');
  return new CanonicalJsonError(`cannot canonicalize at ${path}: ${reason}`, path);
}
