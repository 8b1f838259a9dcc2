import { EngineError } from '@anchorflow/engine';

// Keyset cursors: the sort key of the last row of a page, opaque to clients. Timestamps travel as
// microseconds since the epoch (PostgreSQL's own resolution) so the comparison is exact.

export interface Keyset {
  /** timestamp in microseconds since the epoch, as a decimal string */
  us: string;
  id: string;
}

export function encodeCursor(key: Keyset): string {
  return Buffer.from(JSON.stringify([key.us, key.id])).toString('base64url');
}

export function decodeCursor(cursor: string): Keyset {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 2 && typeof parsed[0] === 'string' && /^-?\d{1,20}$/.test(parsed[0])
      && typeof parsed[1] === 'string' && /^[0-9a-f-]{36}$/i.test(parsed[1])) {
      return { us: parsed[0], id: parsed[1] };
    }
  } catch {
    // fall through
  }
  throw new EngineError('INVALID_INPUT', 'invalid cursor', { cursor });
}

/** SQL for the microseconds of a timestamptz column, and for turning a parameter back into one */
export const micros = (column: string) => `(extract(epoch from ${column}) * 1000000)::bigint::text`;
export const fromMicros = (param: string) => `('epoch'::timestamptz + ${param}::bigint * interval '1 microsecond')`;

export function clampLimit(limit: number, max = 1000): number {
  return Number.isFinite(limit) ? Math.min(Math.max(Math.trunc(limit), 1), max) : max;
}
