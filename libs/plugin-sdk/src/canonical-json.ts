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
export function canonicalJson(value: unknown, omit?: ReadonlySet<string>): string {
  // Plain data (what events, audit details and proof statements are made of) takes a lean path: no
  // path or ancestor bookkeeping, keys sorted only when they are not already, member names quoted once per
  // process. Anything else — class instances, toJSON, non-finite numbers, bigints, very deep nesting (a
  // cycle ends there too), a lone surrogate — is left to the strict path below, which the lean path
  // reproduces exactly (canonical-json.spec.ts) and which says where the input is not JSON.
  try {
    const out = leanValue(value, 0, omit);
    if (out !== undefined && !LONE_SURROGATE_ESCAPE.test(out)) return out;
  } catch (err) {
    if (err !== BAIL) throw err;
  }
  if (omit && value !== null && typeof value === 'object' && !isArray(value)) {
    const rest = { ...(value as Record<string, unknown>) };
    for (const k of omit) delete rest[k];
    return strictCanonicalJson(rest);
  }
  return strictCanonicalJson(value);
}

/** The same without the lean path: the reference the lean path is tested against, and what names bad input. */
export function strictCanonicalJson(value: unknown): string {
  const ctx: Context = { ancestors: [], path: [] };
  const out = serialize(value, ctx);
  if (out === undefined) throw invalid(`${typeof value} is not JSON data`, ctx);
  return out;
}

const BAIL = Symbol('bail');
/** JSON.stringify escapes a lone surrogate as \udXXX, which canonical JSON refuses (the strict path says where) */
const LONE_SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
const LEAN_MAX_DEPTH = 64;
/** `"name":` per member name: the same few hundred names recur, and quoting them was a fifth of the work */
const memberNames = new Map<string, string>();
function memberName(k: string): string {
  let q = memberNames.get(k);
  if (q === undefined) {
    q = stringify(k) + ':';
    if (memberNames.size < 10_000) memberNames.set(k, q);
  }
  return q;
}
/**
 * What JSON.stringify would escape (quotes, backslashes, controls) and surrogates (a lone one is escaped,
 * which the final check refuses; a pair is kept as is): a string without any is its own JSON text between
 * quotes, which spares a call into JSON.stringify for nearly every string (issue 18).
 */
// eslint-disable-next-line no-control-regex -- the control characters are exactly what is looked for
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** `omit`: members of this (top-level) object to leave out */
function leanValue(v: unknown, depth: number, omit?: ReadonlySet<string>): string | undefined {
  switch (typeof v) {
    case 'string': return v.length < 256 && !NEEDS_ESCAPE.test(v) ? '"' + v + '"' : stringify(v);
    case 'number': if (!isFinite(v)) throw BAIL; return '' + v;
    case 'boolean': return v ? 'true' : 'false';
    case 'undefined': case 'function': case 'symbol': return undefined;
    case 'bigint': throw BAIL;
  }
  if (v === null) return 'null';
  if (depth > LEAN_MAX_DEPTH) throw BAIL;
  const proto = getPrototypeOf(v);
  if (proto === ARRAY_PROTOTYPE) {
    const a = v as unknown[];
    if (typeof (a as { toJSON?: unknown }).toJSON === 'function') throw BAIL;
    let out = '[';
    for (let i = 0; i < a.length; i++) out += (i ? ',' : '') + (leanValue(a[i], depth + 1) ?? 'null');
    return out + ']';
  }
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') throw BAIL;
  // a class instance is serialized by its own members, as the strict path does; taken only at the top
  // (an event object), where checking that it is not a Map, a boxed value… costs once per call
  if (proto !== OBJECT_PROTOTYPE && proto !== null && (depth > 0 || !isRecordLike(v as object))) throw BAIL;
  const o = v as Record<string, unknown>;
  // Array#sort allocated a third of what canonicalising an event allocates (issue 18); insertion sort
  // (as the strict path) allocates nothing for the handful of keys real objects have
  const keys = objectKeys(o);
  for (let i = 1; i < keys.length; i++) {
    if (keys[i - 1]! > keys[i]!) {
      sortKeys(keys);
      break;
    }
  }
  let out = '';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (omit !== undefined && omit.has(k)) continue;
    const member = leanValue(o[k], depth + 1);
    if (member === undefined) continue;
    out += (out === '' ? '{' : ',') + memberName(k) + member;
  }
  return out === '' ? '{}' : out + '}';
}

function isRecordLike(obj: object): boolean {
  if (isArray(obj) || obj instanceof Number || obj instanceof String || obj instanceof Boolean || ArrayBuffer.isView(obj)) return false;
  return !NOT_JSON_TAGS.has(Object.prototype.toString.call(obj).slice(8, -1));
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
