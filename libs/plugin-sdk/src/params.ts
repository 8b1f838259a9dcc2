import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, registerDecorator, validateSync, type ValidationError, type ValidationOptions } from 'class-validator';
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

/**
 * Constraints that say what type a value must have. When one of them fails, the range and format
 * messages of the same property say nothing useful ("soon" is neither < 0 nor > max), so only the type
 * message is kept.
 */
const TYPE_CONSTRAINTS = new Set(['isInt', 'isNumber', 'isString', 'isBoolean', 'isArray', 'isObject', 'isDate', 'isEnum', 'isIn']);

function messagesOf(constraints: Record<string, string>): string[] {
  const typeMessages = Object.keys(constraints).filter((k) => TYPE_CONSTRAINTS.has(k)).map((k) => constraints[k]!);
  return typeMessages.length ? typeMessages : Object.values(constraints);
}

function flatten(errors: ValidationError[], base: string, out: ParamProblem[], raw: unknown): void {
  for (const e of errors) {
    const path = pathJoin(base, e.property);
    const value = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>)[e.property] : undefined;
    if (e.constraints) {
      // a value given as `=expression` is checked after evaluation, not now (unless it must be static)
      const messages = isExpression(value) ? (e.constraints[STATIC] ? [e.constraints[STATIC]] : []) : messagesOf(e.constraints);
      if (messages.length) out.push({ path, message: messages.join('; ') });
    }
    if (e.children?.length) flatten(e.children, path, out, value);
  }
}

/**
 * class-validator recomputes a class's metadata list (filtering every registered decorator) on each
 * validateSync call; at 10,000 nodes a save that is most of the time. The list only changes when
 * decorators run (class definition), so it is memoised until the next registration.
 */
{
  const storage = getMetadataStorage() as unknown as {
    getTargetValidationMetadatas: (...a: unknown[]) => unknown[];
    addValidationMetadata: (...a: unknown[]) => void;
    __anchorflowMemo?: boolean;
  };
  if (!storage.__anchorflowMemo) {
    storage.__anchorflowMemo = true;
    const memo = new Map<unknown, Map<string, unknown[]>>();
    const original = storage.getTargetValidationMetadatas.bind(storage);
    const add = storage.addValidationMetadata.bind(storage);
    storage.addValidationMetadata = (...a: unknown[]) => {
      memo.clear();
      add(...a);
    };
    storage.getTargetValidationMetadatas = (target: unknown, schema: unknown, always: unknown, strict: unknown, groups?: unknown) => {
      const key = `${String(schema)}|${always}|${strict}|${Array.isArray(groups) ? groups.join(',') : ''}`;
      let byKey = memo.get(target);
      if (!byKey) memo.set(target, (byKey = new Map()));
      let result = byKey.get(key);
      if (!result) byKey.set(key, (result = original(target, schema, always, strict, groups)));
      return result;
    };
  }
}

interface ClassShape {
  /** property names that carry validation metadata: anything else is an unknown key */
  known: Set<string>;
  /** nested DTOs need class-transformer to build instances; flat ones take the fast path */
  nested: boolean;
  /** compiled once per class (see compileValidCheck): true = class-validator would report nothing */
  valid?: (instance: object) => boolean;
}

interface ValidatorInstance {
  validate(value: unknown, args: object): unknown;
}
interface CompiledMeta {
  propertyName: string;
  constraints: unknown[];
  validateIf?: (object: object, value: unknown) => boolean;
  each: boolean;
  validators: ValidatorInstance[];
}

/**
 * A params class's validators, compiled once: the decorators' own validate functions called in the order
 * class-validator's ValidationExecutor calls them (per property: conditions such as @IsOptional, then
 * @IsDefined, then the others), without its per-call metadata grouping, ValidationError objects and
 * message formatting. It only ever answers "valid" when each check returned exactly true; anything else
 * (a failed check, a promise, a value validated with `each`) sends the params through validateSync, which
 * then produces the problems with their usual messages. So results are class-validator's, and the
 * 10,000-node validation no longer spends a third of its time in it. Undefined for a class whose metadata
 * has other kinds (nested or promise validation): those always go through validateSync.
 */
function compileValidCheck(cls: ParamsClass): ((instance: object) => boolean) | undefined {
  const storage = getMetadataStorage() as unknown as {
    getTargetValidationMetadatas: (...a: unknown[]) => Array<{ type: string; propertyName: string; constraints: unknown[]; constraintCls: object; validateIf?: CompiledMeta['validateIf']; each?: boolean }>;
    getTargetValidatorConstraints: (cls: object) => Array<{ async: boolean; instance: ValidatorInstance }>;
  };
  // what validateSync(instance, { forbidUnknownValues: false }) asks for
  const metas = storage.getTargetValidationMetadatas(cls, undefined, false, false, undefined);
  const props = new Map<string, { conditions: Array<(object: object, value: unknown) => boolean>; defined: CompiledMeta[]; custom: CompiledMeta[] }>();
  for (const m of metas) {
    let p = props.get(m.propertyName);
    if (!p) props.set(m.propertyName, (p = { conditions: [], defined: [], custom: [] }));
    if (m.type === 'whitelistValidation') continue;
    if (m.type === 'conditionalValidation') {
      p.conditions.push(m.constraints[0] as (object: object, value: unknown) => boolean);
      continue;
    }
    if (m.type !== 'customValidation' && m.type !== 'isDefined') return undefined;
    // validateSync skips async constraints
    const validators = storage.getTargetValidatorConstraints(m.constraintCls).filter((c) => !c.async).map((c) => c.instance);
    (m.type === 'isDefined' ? p.defined : p.custom).push({ propertyName: m.propertyName, constraints: m.constraints, validateIf: m.validateIf, each: m.each === true, validators });
  }
  const compiled = [...props.entries()].map(([name, p]) => ({ name, conditions: p.conditions, checks: [...p.defined, ...p.custom] }));
  const targetName = cls.name;
  return (instance) => {
    next: for (const p of compiled) {
      const value = (instance as Record<string, unknown>)[p.name];
      for (const c of p.conditions) if (!c(instance, value)) continue next;
      for (const m of p.checks) {
        if (m.validateIf && !m.validateIf(instance, value)) continue;
        if (m.each && (Array.isArray(value) || value instanceof Set || value instanceof Map)) return false;
        const args = { targetName, property: m.propertyName, object: instance, value, constraints: m.constraints };
        for (const v of m.validators) if (v.validate(value, args) !== true) return false;
      }
    }
    return true;
  };
}

const shapes = new WeakMap<object, ClassShape>();
function shapeOf(cls: ParamsClass): ClassShape {
  let shape = shapes.get(cls);
  if (!shape) {
    const metas = getMetadataStorage().getTargetValidationMetadatas(cls, '', true, false);
    const nested = metas.some((m) => m.type === 'nestedValidation');
    shape = {
      known: new Set(metas.map((m) => m.propertyName)),
      nested,
      valid: nested ? undefined : compileValidCheck(cls),
    };
    shapes.set(cls, shape);
  }
  return shape;
}

/**
 * Validates params against a DTO class. Unknown keys are rejected so typos are caught. Values that
 * are expressions (`=...`) are exempt from type checks until they are evaluated (unless @Static).
 * Flat DTOs skip class-transformer (a `new` applies the defaults): validation of a 10,000-node graph
 * is dominated by this function.
 */
export function validateParams<P extends object>(cls: ParamsClass<P> | undefined, params: unknown): { value: P; problems: ParamProblem[] } {
  if (params === undefined || params === null) params = {};
  if (typeof params !== 'object' || Array.isArray(params)) {
    return { value: {} as P, problems: [{ path: '$', message: 'params must be an object' }] };
  }
  if (!cls) return { value: params as P, problems: [] };
  const shape = shapeOf(cls);
  const problems: ParamProblem[] = [];
  for (const key in params) {
    if (!shape.known.has(key)) problems.push({ path: pathJoin('$', key), message: `unknown param "${key}"` });
  }
  let instance: P;
  if (shape.nested) {
    instance = plainToInstance(cls, params, { exposeDefaultValues: true }) as P;
  } else {
    instance = new cls();
    for (const key in params) if (shape.known.has(key)) (instance as Record<string, unknown>)[key] = (params as Record<string, unknown>)[key];
  }
  if (shape.known.size && !shape.valid?.(instance as object)) flatten(validateSync(instance as object, { forbidUnknownValues: false, whitelist: shape.nested, forbidNonWhitelisted: shape.nested }), '$', problems, params);
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
