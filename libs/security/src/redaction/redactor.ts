export const REDACTED = '[REDACTED]';

/**
 * Key names whose values are always redacted, whatever they hold. Matched on the key normalized to
 * lowercase letters and digits (so `client_secret`, `X-Api-Key`, `privateKeyHex` all hit) when the
 * normalized key CONTAINS one of these.
 */
export const DEFAULT_SENSITIVE_KEYS: readonly string[] = [
  'password',
  'passwd',
  'passphrase',
  'secret',
  'apiKey',
  'authorization',
  'privateKey',
  'mnemonic',
  'seedPhrase',
];

/**
 * Matched only when the normalized key ENDS with them: `accessToken`, `refresh_token`, `set-cookie` hit,
 * while `tokenAddress`, `tokenId` or `maxTokens` (ERC-20 and payment data are everywhere here) do not.
 */
export const DEFAULT_SENSITIVE_KEY_SUFFIXES: readonly string[] = ['token', 'cookie', 'pwd'];

export interface RedactorOptions {
  /** Replaces DEFAULT_SENSITIVE_KEYS (contains-match). */
  sensitiveKeys?: readonly string[];
  /** Replaces DEFAULT_SENSITIVE_KEY_SUFFIXES (ends-with-match). */
  sensitiveKeySuffixes?: readonly string[];
  /** Registered secrets shorter than this are ignored: redacting "ab" everywhere would shred every log. Default 4. */
  minSecretLength?: number;
  /**
   * Also redact well-known secret shapes inside strings, registered or not: URL userinfo passwords,
   * sensitive query/form parameters (`?token=…`) and JSON members (`"password":"…"`) inside strings,
   * `Bearer …`, Anchorflow API keys (`afk_<id>_…`) and JWTs.
   * Default true.
   */
  patterns?: boolean;
  /**
   * Also search for each registered secret's base64 (standard and URL-safe, at each of the three byte
   * alignments it can take inside a longer encoded string, such as `user:password` in a Basic header)
   * and hex (lower and upper case) forms. Only forms of at least 8 characters. Default false.
   */
  encodedForms?: boolean;
  /**
   * Keep the redacted form of up to this many short strings (≤ 64 characters), emptied whenever the
   * registered secrets change. For a long-lived redactor that sees the same identifiers again and again
   * (the daemon's log and audit redactor); default 0 (none).
   */
  cachedStrings?: number;
}

const MIN_ENCODED_FORM = 8;

/**
 * The base64 and hex spellings of `value` that appear in any encoding of a longer string containing it:
 * for base64, the characters that depend only on the secret's bytes at each of the 3 alignments.
 */
export function encodedFormsOf(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const n = bytes.length;
  const forms = new Set<string>([bytes.toString('hex'), bytes.toString('hex').toUpperCase()]);
  for (let k = 0; k < 3; k++) {
    const encoded = Buffer.concat([Buffer.alloc(k), bytes]).toString('base64');
    // character i encodes bits [6i, 6i + 6); the secret's bits are [8k, 8k + 8n)
    const first = Math.ceil((8 * k) / 6);
    const last = Math.floor((8 * k + 8 * n - 6) / 6);
    if (last < first) continue;
    const core = encoded.slice(first, last + 1);
    forms.add(core);
    forms.add(core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return [...forms].filter((f) => f.length >= MIN_ENCODED_FORM);
}

/** strings up to this length have their redaction cached (a UUID is 36) */
const MAX_CACHED_STRING = 64;

// Module-level aliases for the per-node hot path: global lookups are slow inside vm contexts (jest).
const { getPrototypeOf, keys: objectKeys, prototype: OBJECT_PROTOTYPE } = Object;
const { isArray } = Array;

const normalizeKey = (key: string): string => key.toLowerCase().replace(/[^a-z0-9]/g, '');

/**
 * Deep redaction for node inputs/outputs, errors, API responses and log objects. Two nets:
 * 1. by key name (see DEFAULT_SENSITIVE_KEYS) — catches secrets nobody registered;
 * 2. by value — every secret registered at runtime (the daemon registers each decrypted credential with
 *    addSecretsFrom) is replaced wherever it occurs inside any string, e.g. embedded in a URL.
 *
 * `redact` never mutates its input; it returns a copy in which containers are new objects (shared
 * references and cycles are reproduced, not expanded). Class instances come back as plain objects (or via
 * their toJSON), Errors keep their prototype: the output is meant for serialization, not for method calls.
 * Value matching is one linear Aho–Corasick pass per string, independent of how many secrets are known.
 */
export class Redactor {
  readonly #containsKeys: string[];
  readonly #suffixKeys: string[];
  readonly #minLength: number;
  readonly #patterns: boolean;
  readonly #encodedForms: boolean;
  readonly #keyCache = new Map<string, boolean>();
  readonly #secrets = new Set<string>();
  #matcher: SecretMatcher | undefined;
  /**
   * Short strings redacted so far (identifiers, actions, node ids: what audit details and log fields are
   * made of), with their redacted form (`cachedStrings`). A string's redaction depends only on the registered secrets, so
   * the cache is emptied whenever they change. It spared the audit log most of its redaction work: ~13
   * events per webhook call, each with a few of the same short strings (issue 18).
   */
  readonly #stringCache = new Map<string, string>();
  readonly #maxCachedStrings: number;

  constructor(options: RedactorOptions = {}) {
    this.#containsKeys = (options.sensitiveKeys ?? DEFAULT_SENSITIVE_KEYS).map(normalizeKey).filter(Boolean);
    this.#suffixKeys = (options.sensitiveKeySuffixes ?? DEFAULT_SENSITIVE_KEY_SUFFIXES).map(normalizeKey).filter(Boolean);
    this.#minLength = Math.max(1, options.minSecretLength ?? 4);
    this.#patterns = options.patterns ?? true;
    this.#encodedForms = options.encodedForms ?? false;
    this.#maxCachedStrings = Math.max(0, options.cachedStrings ?? 0);
  }

  /** Number of distinct strings searched for (a secret plus its URL- and JSON-escaped forms). */
  get secretCount(): number {
    return this.#secrets.size;
  }

  /** Registers one secret value; values shorter than minSecretLength are ignored. Returns whether it was taken. */
  addSecret(value: string): boolean {
    if (typeof value !== 'string' || value.length < this.#minLength) return false;
    const before = this.#secrets.size;
    // The same secret often travels escaped: in a query string or inside a JSON-encoded body.
    for (const form of [value, safeEncodeURIComponent(value), JSON.stringify(value).slice(1, -1)]) {
      if (form !== undefined && form.length >= this.#minLength) this.#secrets.add(form);
    }
    if (this.#encodedForms) for (const form of encodedFormsOf(value)) this.#secrets.add(form);
    if (this.#secrets.size !== before) {
      this.#matcher = undefined;
      this.#stringCache.clear();
    }
    return true;
  }

  /** Registers every string leaf of a decrypted credential (or any value) as a secret. */
  addSecretsFrom(data: unknown): void {
    const seen = new Set<object>();
    const visit = (value: unknown): void => {
      if (typeof value === 'string') this.addSecret(value);
      else if (value !== null && typeof value === 'object' && !seen.has(value)) {
        seen.add(value);
        for (const v of Array.isArray(value) ? value : Object.values(value)) visit(v);
      }
    };
    visit(data);
  }

  clearSecrets(): void {
    this.#secrets.clear();
    this.#matcher = undefined;
    this.#stringCache.clear();
  }

  isSensitiveKey(key: string): boolean {
    let hit = this.#keyCache.get(key);
    if (hit === undefined) {
      const k = normalizeKey(key);
      hit = this.#containsKeys.some((s) => k.includes(s)) || this.#suffixKeys.some((s) => k.endsWith(s));
      // Keys are mostly a small fixed vocabulary; the bound only guards against keys made of data.
      if (this.#keyCache.size > 10_000) this.#keyCache.clear();
      this.#keyCache.set(key, hit);
    }
    return hit;
  }

  redactString(value: string): string {
    if (value.length > MAX_CACHED_STRING || this.#maxCachedStrings === 0) return this.#redactString(value);
    let out = this.#stringCache.get(value);
    if (out === undefined) {
      out = this.#redactString(value);
      // bounded: most short strings recur (ids, actions), but execution ids and data keep arriving
      if (this.#stringCache.size >= this.#maxCachedStrings) this.#stringCache.clear();
      this.#stringCache.set(value, out);
    }
    return out;
  }

  #redactString(value: string): string {
    let out = value;
    if (this.#secrets.size > 0 && value.length >= this.#minLength) {
      this.#matcher ??= new SecretMatcher(this.#secrets);
      out = this.#matcher.replace(out, REDACTED);
    }
    return this.#patterns ? this.#redactPatterns(out) : out;
  }

  redact<T>(value: T): T {
    return this.#walk(value, new Map()) as T;
  }

  #walk(value: unknown, seen: Map<object, unknown>): unknown {
    if (typeof value === 'string') return this.redactString(value);
    if (value === null || typeof value !== 'object') return value;
    const done = seen.get(value);
    if (done !== undefined) return done;

    if (isArray(value)) {
      const copy: unknown[] = new Array(value.length);
      seen.set(value, copy);
      for (let i = 0; i < value.length; i++) copy[i] = this.#walk(value[i], seen);
      return copy;
    }
    // Plain objects (nearly everything) skip the instanceof ladder below.
    const proto = getPrototypeOf(value);
    if (proto !== OBJECT_PROTOTYPE && proto !== null) {
      if (value instanceof Date || value instanceof RegExp || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return value;
      if (value instanceof Error) return this.#walkError(value, seen);
      if (value instanceof Map) {
        const copy = new Map<unknown, unknown>();
        seen.set(value, copy);
        for (const [k, v] of value) {
          const sensitive = typeof k === 'string' && this.isSensitiveKey(k);
          copy.set(this.#walk(k, seen), sensitive && v != null ? REDACTED : this.#walk(v, seen));
        }
        return copy;
      }
      if (value instanceof Set) {
        const copy = new Set<unknown>();
        seen.set(value, copy);
        for (const v of value) copy.add(this.#walk(v, seen));
        return copy;
      }
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
        // Entities, decimals, BN…: redact what would be serialized. toJSON builds fresh objects, so a
        // reference back to this instance would recurse forever without the marker.
        seen.set(value, '[Circular]');
        const json = this.#walk((value as { toJSON: () => unknown }).toJSON(), seen);
        seen.set(value, json);
        return json;
      }
    }
    const copy: Record<string, unknown> = proto === null ? Object.create(null) : {};
    seen.set(value, copy);
    const hasSecrets = this.#secrets.size > 0;
    for (const key of objectKeys(value)) {
      const v = (value as Record<string, unknown>)[key];
      const outKey = hasSecrets ? this.redactString(key) : key;
      const outValue = this.isSensitiveKey(key) && v != null ? REDACTED : this.#walk(v, seen);
      // An own "__proto__" key (JSON.parse makes them) must stay data, not become the copy's prototype.
      if (outKey === '__proto__') Object.defineProperty(copy, outKey, { value: outValue, enumerable: true, writable: true, configurable: true });
      else copy[outKey] = outValue;
    }
    return copy;
  }

  #walkError(error: Error, seen: Map<object, unknown>): Error {
    const copy = Object.create(Object.getPrototypeOf(error)) as Error;
    seen.set(error, copy);
    // Own names include the non-enumerable message, stack and cause; keep each one's enumerability.
    for (const key of Object.getOwnPropertyNames(error)) {
      const desc = Object.getOwnPropertyDescriptor(error, key)!;
      const v = 'value' in desc ? desc.value : (error as unknown as Record<string, unknown>)[key];
      Object.defineProperty(copy, key, {
        value: this.isSensitiveKey(key) && v != null ? REDACTED : this.#walk(v, seen),
        enumerable: desc.enumerable,
        writable: true,
        configurable: true,
      });
    }
    return copy;
  }

  #redactPatterns(s: string): string {
    let out = s;
    if (out.includes('://')) out = redactUserinfo(out);
    if (out.includes('=')) {
      out = out.replace(KEY_VALUE, (m, sep: string, name: string) => {
        let key = name;
        try {
          key = decodeURIComponent(name);
        } catch {
          // keep the raw name
        }
        return this.isSensitiveKey(key) ? `${sep}${name}=${REDACTED}` : m;
      });
    }
    if (out.includes('":')) {
      // JSON text carried as a string (a logged request body): key-name rules still apply inside it.
      out = out.replace(JSON_MEMBER, (m, name: string) => (this.isSensitiveKey(name) ? `"${name}":"${REDACTED}"` : m));
    }
    if (out.includes('earer') || out.includes('EARER')) out = out.replace(BEARER, (_m, word: string) => `${word} ${REDACTED}`);
    if (out.includes('afk_')) out = out.replace(API_KEY, (_m, id: string) => `afk_${id}_${REDACTED}`);
    if (out.includes('eyJ')) out = out.replace(JWT, REDACTED);
    return out;
  }
}

// Names capped at 64 chars so a long '='-padded base64 blob costs one short attempt, not a scan.
const KEY_VALUE = /(^|[?&;\s])([^=&#\s?;]{1,64})=([^&#\s;]*)/g;
const JSON_MEMBER = /"([^"\\]{1,64})":\s*"(?:[^"\\]|\\.)*"/g;
const BEARER = /\b(Bearer)\s+[A-Za-z0-9._~+/-]+=*/gi;
const API_KEY = /\bafk_([0-9a-f]{16})_[A-Za-z0-9_-]+/g;
const JWT = /\beyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;

/**
 * `scheme://user:password@host` → `scheme://user:[REDACTED]@host`. A hand-written scan: the equivalent
 * regex backtracks from every letter of every string that contains a URL and dominated redaction time.
 */
function redactUserinfo(s: string): string {
  let out = '';
  let copied = 0;
  let changed = false;
  let at = s.indexOf('://');
  while (at !== -1) {
    const start = at + 3;
    let end = start;
    // The authority ends at the first '/', '?', '#', whitespace or quote.
    while (end < s.length && !AUTHORITY_END.has(s.charCodeAt(end))) end++;
    const atSign = s.lastIndexOf('@', end - 1);
    if (atSign >= start) {
      const colon = s.indexOf(':', start);
      if (colon !== -1 && colon < atSign) {
        out += s.slice(copied, colon + 1) + REDACTED;
        copied = atSign;
        changed = true;
      }
    }
    at = s.indexOf('://', end);
  }
  return changed ? out + s.slice(copied) : s;
}

const AUTHORITY_END = new Set([0x2f, 0x3f, 0x23, 0x20, 0x09, 0x0a, 0x0d, 0x22, 0x27, 0x3c, 0x3e]);

function safeEncodeURIComponent(value: string): string | undefined {
  try {
    return encodeURIComponent(value);
  } catch {
    return undefined; // lone surrogate
  }
}

/**
 * Aho–Corasick over UTF-16 code units. For every position it knows the longest secret ending there,
 * which is enough to cover all occurrences; overlapping or adjacent hits are merged into one span, so
 * overlapping secrets cannot leave a tail of either visible.
 */
class SecretMatcher {
  readonly #next: Array<Map<number, number>> = [new Map()];
  readonly #fail: number[] = [0];
  readonly #depthOut: number[] = [0];
  readonly #shortest: number;

  constructor(secrets: Iterable<string>) {
    let shortest = Infinity;
    for (const s of secrets) {
      shortest = Math.min(shortest, s.length);
      let state = 0;
      for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i);
        let to = this.#next[state].get(c);
        if (to === undefined) {
          to = this.#next.length;
          this.#next.push(new Map());
          this.#fail.push(0);
          this.#depthOut.push(0);
          this.#next[state].set(c, to);
        }
        state = to;
      }
      this.#depthOut[state] = Math.max(this.#depthOut[state], s.length);
    }
    this.#shortest = shortest;
    // Breadth-first failure links; a state's output inherits its failure state's (longest suffix match).
    const queue: number[] = [];
    for (const to of this.#next[0].values()) queue.push(to);
    for (let q = 0; q < queue.length; q++) {
      const state = queue[q];
      for (const [c, to] of this.#next[state]) {
        let f = this.#fail[state];
        while (f !== 0 && !this.#next[f].has(c)) f = this.#fail[f];
        const target = this.#next[f].get(c);
        this.#fail[to] = target !== undefined && target !== to ? target : 0;
        this.#depthOut[to] = Math.max(this.#depthOut[to], this.#depthOut[this.#fail[to]]);
        queue.push(to);
      }
    }
  }

  replace(s: string, placeholder: string): string {
    if (s.length < this.#shortest) return s;
    const next = this.#next;
    const fail = this.#fail;
    const out = this.#depthOut;
    const starts: number[] = [];
    const ends: number[] = [];
    let state = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      let to = next[state].get(c);
      while (to === undefined && state !== 0) {
        state = fail[state];
        to = next[state].get(c);
      }
      state = to ?? 0;
      const len = out[state];
      if (len > 0) {
        let start = i + 1 - len;
        let end = i + 1;
        while (ends.length > 0 && start <= ends[ends.length - 1]) {
          start = Math.min(start, starts.pop()!);
          end = Math.max(end, ends.pop()!);
        }
        starts.push(start);
        ends.push(end);
      }
    }
    if (starts.length === 0) return s;
    let result = '';
    let from = 0;
    for (let k = 0; k < starts.length; k++) {
      result += s.slice(from, starts[k]) + placeholder;
      from = ends[k];
    }
    return result + s.slice(from);
  }
}

/**
 * Paths for pino's `redact` option (fast-redact syntax): a cheap first line for the usual places.
 * pino cannot match by value or at any depth, so log objects must still go through Redactor#redact
 * (e.g. in pino's `formatters.log` hook) — see the README.
 */
export function buildRedactPaths(keys: readonly string[] = [...DEFAULT_SENSITIVE_KEYS, 'token', 'accessToken', 'refreshToken', 'clientSecret', 'cookie']): string[] {
  const variants = new Set<string>();
  for (const key of keys) {
    variants.add(key);
    variants.add(key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)); // apiKey → api_key
  }
  const paths = new Set<string>();
  for (const v of variants) {
    const plain = /^[A-Za-z_$][\w$]*$/.test(v);
    paths.add(plain ? v : `["${v}"]`);
    paths.add(plain ? `*.${v}` : `*["${v}"]`);
  }
  for (const header of ['authorization', 'cookie', 'x-api-key', 'proxy-authorization']) {
    paths.add(`req.headers${/^\w+$/.test(header) ? `.${header}` : `["${header}"]`}`);
  }
  paths.add('res.headers["set-cookie"]');
  return [...paths];
}

export const redactPaths: readonly string[] = Object.freeze(buildRedactPaths());
