/** Thrown from the JSON body parser's verify hook; the exception filter answers 400 JSON_TOO_DEEP. */
export class JsonTooDeepError extends Error {
  readonly type = 'entity.too.deep';
  constructor(readonly maxDepth: number) {
    super(`request body nests deeper than ${maxDepth} levels`);
    this.name = 'JsonTooDeepError';
  }
}

/**
 * Whether raw JSON nests objects/arrays deeper than `max`, by one pass over the bytes (strings
 * skipped). Deeply nested input would otherwise overflow the stack of every recursive walk after
 * parsing (validation, expression bindings, storage).
 */
export function jsonDepthExceeds(buf: Uint8Array, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i]!;
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > max) return true;
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return false;
}

/** body-parser `verify` option rejecting bodies nested deeper than `max`. */
export function verifyJsonDepth(max: number): (req: unknown, res: unknown, buf: Buffer) => void {
  return (_req, _res, buf) => {
    if (jsonDepthExceeds(buf, max)) throw new JsonTooDeepError(max);
  };
}
