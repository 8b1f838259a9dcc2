// PostgreSQL's jsonb rejects some values JSON.stringify happily emits (\u0000, lone surrogates) and
// JSON.stringify throws on others (bigint, cycles). In a group commit one such value would fail every
// retry of the whole batch, so values are made storable instead: the text stays faithful except for
// those characters (replaced by U+FFFD), bigints (stored as decimal strings) and cycles ("[Circular]").

// A backslash-escaped NUL or surrogate in the JSON text; may also match a literal "\u0000" typed by a
// user, which only costs a pass through the slow path.
const SUSPICIOUS = /\\u0000|\\ud[89a-f]/i;

/** JSON text of `value` that PostgreSQL will accept as jsonb. */
export function toJsonText(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    return JSON.stringify(storable(value, new Set()));
  }
  if (text === undefined) return 'null';
  return SUSPICIOUS.test(text) ? JSON.stringify(storable(value, new Set())) : text;
}

// eslint-disable-next-line no-control-regex -- NUL is exactly what has to go
const UNSTORABLE_CHARS = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function cleanString(s: string): string {
  return s.replace(UNSTORABLE_CHARS, '\uFFFD');
}

export function storable(value: unknown, ancestors: Set<object>): unknown {
  switch (typeof value) {
    case 'string': return cleanString(value);
    case 'bigint': return value.toString();
    case 'object': break;
    default: return value;
  }
  if (value === null) return null;
  const withJson = value as { toJSON?: () => unknown };
  if (typeof withJson.toJSON === 'function') return storable(withJson.toJSON(), ancestors);
  if (ancestors.has(value)) return '[Circular]';
  ancestors.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => storable(item, ancestors) ?? null);
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
      out[cleanString(key)] = storable(item, ancestors);
    }
    return out;
  } finally {
    ancestors.delete(value);
  }
}
