import { NodeError, type NodeContext } from '@anchorflow/plugin-sdk';

/**
 * Evaluates a JSONata expression the node owns (a condition, a transform). JSONata rejects with plain
 * objects ({code, position, message}); left alone those would be treated as unknown errors and retried,
 * although the same expression on the same input fails the same way every time. So they become
 * non-retryable NodeErrors naming the param. Errors already classified (NodeError, anything carrying a
 * `retryable` flag such as the engine's time bound) and aborts pass through untouched.
 */
export async function evaluateParam(ctx: NodeContext<object>, param: string, expression: string, input: unknown): Promise<unknown> {
  try {
    return await ctx.evaluate(expression, input);
  } catch (err) {
    if (err instanceof NodeError || ctx.signal.aborted) throw err;
    if (err instanceof Error && typeof (err as { retryable?: unknown }).retryable === 'boolean') throw err;
    const e = (typeof err === 'object' && err !== null ? err : {}) as { message?: unknown; code?: unknown; position?: unknown; token?: unknown };
    const reason = typeof e.message === 'string' && e.message !== '' ? e.message : String(err);
    throw new NodeError(
      `${param}: ${reason}`,
      'EXPRESSION_ERROR',
      { param, ...(typeof e.code === 'string' ? { code: e.code } : {}), ...(typeof e.position === 'number' ? { position: e.position } : {}), ...(e.token !== undefined ? { token: String(e.token) } : {}) },
      { cause: err },
    );
  }
}

/** A function value cannot be stored or sent on; JSONata lambdas are objects flagged like this. */
export function isJsonataFunction(value: unknown): boolean {
  if (typeof value === 'function') return true;
  const v = value as { _jsonata_function?: unknown; _jsonata_lambda?: unknown } | null;
  return typeof value === 'object' && value !== null && (v!._jsonata_function === true || v!._jsonata_lambda === true);
}

/**
 * JSONata's effective boolean value ($boolean), so a condition means the same in core.if/core.switch as
 * inside an expression: undefined (no match) is false.
 */
export function jsonataBoolean(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (Array.isArray(value)) {
    if (value.length === 1) return jsonataBoolean(value[0]);
    return value.some(jsonataBoolean);
  }
  switch (typeof value) {
    case 'string':
      return value.length > 0;
    case 'number':
      return value !== 0 && !Number.isNaN(value);
    case 'boolean':
      return value;
    case 'object':
      return !isJsonataFunction(value) && Object.keys(value).length > 0;
    default:
      return false;
  }
}
