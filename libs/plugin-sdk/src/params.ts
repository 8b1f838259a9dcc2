import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { registerDecorator, validateSync, type ValidationError, type ValidationOptions } from 'class-validator';
import { targetConstructorToSchema } from 'class-validator-jsonschema';
import jsonata from 'jsonata';

/** A params DTO: a class decorated with class-validator decorators. */
export type ParamsClass<P = object> = new () => P;

export interface ParamProblem {
  /** JSON path relative to the params object, e.g. `$.cases[1].condition` */
  path: string;
  message: string;
}

/** A string param value starting with `=` is a JSONata expression evaluated at run time. */
export function isExpression(value: unknown): value is string {
  return typeof value === 'string' && value.length > 1 && value.charCodeAt(0) === 61 /* = */;
}

/** Checks JSONata syntax; returns the parser's message or undefined when valid. */
export function expressionSyntaxError(expression: string): string | undefined {
  try {
    jsonata(expression);
    return undefined;
  } catch (err) {
    const e = err as { message?: string; position?: number };
    return `${e.message ?? String(err)}${e.position !== undefined ? ` (at ${e.position})` : ''}`;
  }
}

/** Marks a param that holds a JSONata expression the node evaluates itself (e.g. core.if's condition). */
export function IsJsonata(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: 'isJsonata',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown) => typeof value === 'string' && value.trim() !== '' && expressionSyntaxError(value) === undefined,
        defaultMessage: (args) =>
          typeof args?.value === 'string' && args.value.trim() !== ''
            ? `${args.property} is not a valid JSONata expression: ${expressionSyntaxError(args.value)}`
            : `${args?.property} must be a non-empty JSONata expression`,
      },
    });
  };
}

const STATIC = 'isStatic';

/**
 * Marks a param that must be fixed when the workflow is saved (a webhook path, a switch's port
 * names): a `=expression` there is a validation error instead of being evaluated at run time.
 */
export function Static(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: STATIC,
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown) => !isExpression(value),
        defaultMessage: (args) => `${args?.property} must be a fixed value, not an expression`,
      },
    });
  };
}

function pathJoin(base: string, key: string): string {
  return /^\d+$/.test(key) ? `${base}[${key}]` : /^[A-Za-z_$][\w$]*$/.test(key) ? `${base}.${key}` : `${base}[${JSON.stringify(key)}]`;
}

function flatten(errors: ValidationError[], base: string, out: ParamProblem[], raw: unknown): void {
  for (const e of errors) {
    const path = pathJoin(base, e.property);
    const value = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>)[e.property] : undefined;
    if (e.constraints) {
      // a value given as `=expression` is checked after evaluation, not now (unless it must be static)
      const messages = isExpression(value) ? (e.constraints[STATIC] ? [e.constraints[STATIC]] : []) : Object.values(e.constraints);
      if (messages.length) out.push({ path, message: messages.join('; ') });
    }
    if (e.children?.length) flatten(e.children, path, out, value);
  }
}

/**
 * Validates params against a DTO class. `whitelist` rejects unknown keys so typos are caught.
 * Values that are expressions (`=...`) are exempt from type checks until they are evaluated.
 */
export function validateParams<P extends object>(cls: ParamsClass<P> | undefined, params: unknown): { value: P; problems: ParamProblem[] } {
  if (params === undefined || params === null) params = {};
  if (typeof params !== 'object' || Array.isArray(params)) {
    return { value: {} as P, problems: [{ path: '$', message: 'params must be an object' }] };
  }
  if (!cls) return { value: params as P, problems: [] };
  const instance = plainToInstance(cls, params, { exposeDefaultValues: true }) as P;
  const errors = validateSync(instance as object, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: false });
  const problems: ParamProblem[] = [];
  flatten(errors, '$', problems, params);
  return { value: instance, problems };
}

const schemaCache = new WeakMap<object, object>();
/** JSON schema of a params DTO, for the catalog and the editor. */
export function paramsJsonSchema(cls: ParamsClass | undefined): object {
  if (!cls) return { type: 'object', properties: {}, additionalProperties: false };
  let schema = schemaCache.get(cls);
  if (!schema) {
    schema = dropDanglingRefs({ type: 'object', properties: {}, ...targetConstructorToSchema(cls), additionalProperties: false }) as object;
    schemaCache.set(cls, schema);
  }
  return schema;
}

/**
 * class-validator-jsonschema turns custom validators (IsJsonata, Static) into `$ref`s to the property's
 * design type (`#/definitions/Object`) that no definitions section backs; the other keywords already
 * describe the value, so such refs are dropped.
 */
function dropDanglingRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropDanglingRefs);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === '$ref' && typeof v === 'string' && v.startsWith('#/definitions/')) continue;
    out[k] = dropDanglingRefs(v);
  }
  return out;
}
