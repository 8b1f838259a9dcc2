import {
  type NodeCategory,
  type NodeDefinition,
  type ParamsClass,
  type RetryPolicy,
  NodeError,
  isTriggerNode,
  paramsJsonSchema,
  registerDecorator,
} from '@anchorflow/plugin-sdk';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

/**
 * A node type as a plugin worker announces it (ARCHITECTURE §7, `registry.announce`): everything the
 * daemon needs to validate workflows using it and show it in the catalog, as plain JSON.
 */
export interface RemoteNodeTypeDescriptor {
  type: string;
  version: number;
  title: string;
  description?: string;
  category: NodeCategory;
  inputs: string[];
  /** static ports, or `dynamic` when they depend on params (checked by the worker at run time) */
  outputs: string[] | 'dynamic';
  /** JSON schema of the params (what `paramsJsonSchema` makes of the DTO) */
  paramsSchema: object;
  pure: boolean;
  retry?: Partial<RetryPolicy>;
  timeoutMs?: number;
}

const CATEGORIES: readonly NodeCategory[] = ['trigger', 'action', 'transform', 'flow', 'chain', 'notification'];
const TYPE_RE = /^[a-z][a-z0-9-]*(\.[a-z][a-zA-Z0-9-]*)+$/;
const PORT_RE = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

// formats (uri, email…) are left to the worker, which re-validates with the plugin's own DTO
const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });

/**
 * Compiled validators by schema text. Workers announce their schemas with every heartbeat, and ajv keeps
 * each compiled schema object in its own cache forever: without this, a long-running daemon would
 * recompile (CPU) and retain (~4 KB) every announced schema, heartbeat after heartbeat.
 */
const compiled = new Map<string, ValidateFunction>();
const MAX_COMPILED = 2000;

/** Compiles a JSON schema (once per distinct schema text); the error says why it cannot be used. */
export function compileJsonSchema(schema: unknown): { ok: true; validate: ValidateFunction } | { ok: false; error: string } {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return { ok: false, error: 'a JSON schema must be an object' };
  let key: string;
  try {
    key = JSON.stringify(schema);
  } catch (err) {
    return { ok: false, error: `not JSON: ${(err as Error).message}` };
  }
  const hit = compiled.get(key);
  if (hit) return { ok: true, validate: hit };
  try {
    const validate = ajv.compile(schema as object);
    // the function stands alone; ajv's cache (keyed by object identity) must not grow with every announcement
    ajv.removeSchema(schema as object);
    if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value!);
    compiled.set(key, validate);
    return { ok: true, validate };
  } catch (err) {
    ajv.removeSchema(schema as object);
    return { ok: false, error: (err as Error).message };
  }
}

/** The descriptor a worker announces for a node type it serves. */
export function describeNodeType(def: NodeDefinition): RemoteNodeTypeDescriptor {
  return {
    type: def.type,
    version: def.version,
    title: def.title,
    ...(def.description ? { description: def.description } : {}),
    category: def.category,
    inputs: [...def.inputs],
    outputs: typeof def.outputs === 'function' ? 'dynamic' : [...def.outputs],
    paramsSchema: paramsJsonSchema(def.params),
    pure: def.pure === true,
    ...(def.retry ? { retry: { ...def.retry } } : {}),
    ...(def.timeoutMs !== undefined ? { timeoutMs: def.timeoutMs } : {}),
  };
}

/** Node types a worker can serve: triggers run their long-lived source in the daemon. */
export function isRemotable(def: NodeDefinition): boolean {
  return !isTriggerNode(def);
}

/** Every problem with an announced descriptor (it comes over the wire: trust nothing). */
export function checkRemoteDescriptor(d: unknown): string[] {
  const problems: string[] = [];
  if (typeof d !== 'object' || d === null || Array.isArray(d)) return ['a node type descriptor must be an object'];
  const x = d as Record<string, unknown>;
  if (typeof x.type !== 'string' || !TYPE_RE.test(x.type)) problems.push(`type ${JSON.stringify(x.type)} must look like "<plugin>.<name>"`);
  if (!Number.isInteger(x.version) || (x.version as number) < 1) problems.push('version must be a positive integer');
  if (typeof x.title !== 'string' || !x.title) problems.push('title must be a non-empty string');
  if (x.description !== undefined && typeof x.description !== 'string') problems.push('description must be a string');
  if (!CATEGORIES.includes(x.category as NodeCategory)) problems.push(`category must be one of ${CATEGORIES.join(', ')}`);
  if (!Array.isArray(x.inputs) || !x.inputs.every((p) => typeof p === 'string' && PORT_RE.test(p))) problems.push('inputs must be an array of port names');
  if (x.outputs !== 'dynamic' && !(Array.isArray(x.outputs) && x.outputs.every((p) => typeof p === 'string' && PORT_RE.test(p)))) problems.push('outputs must be an array of port names or "dynamic"');
  if (typeof x.pure !== 'boolean') problems.push('pure must be a boolean');
  if (x.timeoutMs !== undefined && !(Number.isInteger(x.timeoutMs) && (x.timeoutMs as number) > 0)) problems.push('timeoutMs must be a positive integer');
  if (x.retry !== undefined) {
    if (typeof x.retry !== 'object' || x.retry === null || Array.isArray(x.retry)) problems.push('retry must be an object');
    else for (const [k, v] of Object.entries(x.retry)) if (!['maxAttempts', 'backoffMs', 'factor', 'maxBackoffMs'].includes(k) || typeof v !== 'number') problems.push(`retry.${k} is not a retry option`);
  }
  const schema = x.paramsSchema as Record<string, unknown> | undefined;
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) problems.push('paramsSchema must be a JSON schema object');
  else {
    if (schema.type !== undefined && schema.type !== 'object') problems.push('paramsSchema must describe an object');
    if (schema.properties !== undefined && (typeof schema.properties !== 'object' || schema.properties === null)) problems.push('paramsSchema.properties must be an object');
    const compiled = compileJsonSchema(schema);
    if (!compiled.ok) problems.push(`paramsSchema is not a valid JSON schema: ${compiled.error}`);
  }
  return problems;
}

function describeErrors(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? []).map((e) => `${e.instancePath ? `${e.instancePath.slice(1).replace(/\//g, '.')} ` : ''}${e.message ?? 'is invalid'}`).join('; ') || 'is invalid';
}

/**
 * A params "DTO" built from a JSON schema: one class-validator constraint per announced property,
 * checked with ajv. The SDK's validateParams then treats it like any DTO: unknown keys rejected,
 * `=expressions` exempt until evaluated, defaults from the schema applied by `new`.
 */
export function paramsClassFromSchema(schema: object, title = 'RemoteParams'): ParamsClass<Record<string, unknown>> {
  const s = schema as { properties?: Record<string, object>; required?: string[] };
  const properties = s.properties ?? {};
  const required = new Set(Array.isArray(s.required) ? s.required : []);
  const defaults = Object.entries(properties).filter(([, sub]) => typeof sub === 'object' && sub !== null && 'default' in sub);
  const cls = {
    [title]: class {
      constructor() {
        for (const [key, sub] of defaults) (this as Record<string, unknown>)[key] = structuredClone((sub as { default: unknown }).default);
      }
    },
  }[title] as ParamsClass<Record<string, unknown>>;
  for (const [key, sub] of Object.entries(properties)) {
    const compiled = compileJsonSchema(sub);
    const check = compiled.ok ? compiled.validate : undefined;
    registerDecorator({
      name: 'remoteSchema',
      target: cls,
      propertyName: key,
      validator: {
        validate: (value: unknown) => (value === undefined || value === null ? !required.has(key) : check ? (check(value) as boolean) : true),
        defaultMessage: (args) => {
          const value = args?.value;
          if (value === undefined || value === null) return `${key} is required`;
          check?.(value);
          return `${key} ${describeErrors(check?.errors)}`;
        },
      },
    });
  }
  return cls;
}

/** Marks definitions built from an announcement: they run only in a worker. */
export const REMOTE_NODE = Symbol.for('anchorflow.remote-node');

/** A NodeDefinition the daemon validates workflows with; its execute never runs here. */
export function remoteNodeDefinition(d: RemoteNodeTypeDescriptor): NodeDefinition {
  const dynamicOutputs = (): string[] => {
    // validate-workflow treats a throwing ports function as "checked at run time" (the worker checks)
    throw new Error(`output ports of ${d.type} depend on its params and are checked by the worker`);
  };
  const def: NodeDefinition & { [REMOTE_NODE]: true } = {
    type: d.type,
    version: d.version,
    title: d.title,
    ...(d.description ? { description: d.description } : {}),
    category: d.category,
    inputs: [...d.inputs],
    outputs: d.outputs === 'dynamic' ? dynamicOutputs : [...d.outputs],
    params: paramsClassFromSchema(d.paramsSchema, `${d.type.replace(/[^A-Za-z0-9]/g, '_')}_params`),
    pure: d.pure,
    ...(d.retry ? { retry: d.retry } : {}),
    ...(d.timeoutMs !== undefined ? { timeoutMs: d.timeoutMs } : {}),
    execute: () => {
      throw new NodeError(`${d.type} runs in a plugin worker; this daemon has no local implementation`, 'REMOTE_ONLY');
    },
    [REMOTE_NODE]: true,
  };
  return Object.freeze(def);
}

export function isRemoteNodeDefinition(def: NodeDefinition): boolean {
  return (def as { [REMOTE_NODE]?: boolean })[REMOTE_NODE] === true;
}
