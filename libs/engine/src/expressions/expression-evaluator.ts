import jsonata from 'jsonata';
import { NodeError, isExpression } from '@anchorflow/plugin-sdk';
import { LinearRegExp } from './linear-regex.js';

/**
 * Largest sequence (array) an expression may build: `[1..3000000]`, `$reverse` of a huge range and the
 * like fail with D2015 instead of blocking the event loop for seconds between two time checks.
 */
export const MAX_EXPRESSION_SEQUENCE = 100_000;

export interface ExpressionBindings {
  trigger: unknown;
  nodes: Record<string, unknown>;
  /** startedAt is ISO 8601, as everywhere in the API */
  execution: { id: string; workflowId: string; workflowVersion: number; startedAt: string; input: unknown };
}

/**
 * JSONata with a compile cache and a time bound (jsonata's own guardrails: the evaluation is
 * checked at every step, so a runaway expression fails with D1012 instead of hanging the daemon).
 * The time bound is checked between steps only, so a single step must stay short: regular expressions
 * run on a linear-time engine (RE2, LinearRegExp) and sequences are capped (MAX_EXPRESSION_SEQUENCE).
 */
export class ExpressionEvaluator {
  private readonly cache = new Map<string, jsonata.Expression>();

  constructor(
    private readonly timeoutMs: number,
    private readonly maxCached = 5000,
    private readonly maxDepth = 500,
    private readonly maxSequence = MAX_EXPRESSION_SEQUENCE,
  ) {}

  private compile(expression: string): jsonata.Expression {
    let compiled = this.cache.get(expression);
    if (!compiled) {
      compiled = jsonata(expression, { timeout: this.timeoutMs, stack: this.maxDepth, sequence: this.maxSequence, RegexEngine: LinearRegExp } as never);
      if (this.cache.size >= this.maxCached) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(expression, compiled);
    }
    return compiled;
  }

  async evaluate(expression: string, input: unknown, bindings: ExpressionBindings, path = '$'): Promise<unknown> {
    try {
      const result = await this.compile(expression).evaluate(input, bindings as unknown as Record<string, unknown>);
      return normalise(result);
    } catch (err) {
      const e = err as { code?: string; message?: string; position?: number; token?: string };
      const message =
        e.code === 'D1012' ? `expression ran longer than ${this.timeoutMs} ms`
        : e.code === 'D1011' ? `expression recursed deeper than ${this.maxDepth}`
        : e.code === 'D2015' || e.code === 'D2014' ? `expression built a sequence larger than ${this.maxSequence} items`
        : (e.message ?? String(err));
      throw new NodeError(`expression at ${path} failed: ${message}`, 'EXPRESSION_ERROR', { path, expression, jsonataCode: e.code, position: e.position }, { cause: err });
    }
  }

  /** Evaluates every `=expression` in params (deeply); other values are kept as they are. */
  async resolveParams(params: Record<string, unknown>, input: unknown, bindings: ExpressionBindings, basePath: string): Promise<Record<string, unknown>> {
    const walk = async (value: unknown, path: string): Promise<unknown> => {
      if (isExpression(value)) return this.evaluate(value.slice(1), input, bindings, path);
      if (Array.isArray(value)) {
        const out = new Array(value.length);
        for (let i = 0; i < value.length; i++) out[i] = await walk(value[i], `${path}[${i}]`);
        return out;
      }
      if (value !== null && typeof value === 'object') {
        const out: Record<string, unknown> = {};
        for (const k in value as Record<string, unknown>) out[k] = await walk((value as Record<string, unknown>)[k], `${path}.${k}`);
        return out;
      }
      return value;
    };
    return (await walk(params, basePath)) as Record<string, unknown>;
  }
}

/** JSONata returns sequences (arrays with extra flags) and undefined; make results plain JSON values. */
function normalise(value: unknown): unknown {
  if (value === undefined) return null;
  if (Array.isArray(value) && ((value as { sequence?: boolean }).sequence || (value as { outerWrapper?: boolean }).outerWrapper)) return Array.from(value);
  return value;
}
