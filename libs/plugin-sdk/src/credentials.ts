import { registerDecorator, type ValidationOptions } from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { isExpression, type ParamProblem } from './params.js';

/** One field of a credential type's data. */
export interface CredentialFieldDefinition {
  type: 'string' | 'integer' | 'boolean';
  /** default true */
  required?: boolean;
  /** a secret (password, token, URL with a token in it): never shown, redacted everywhere */
  secret?: boolean;
  /** allowed values */
  enum?: ReadonlyArray<string | number>;
  /** `url`: absolute http(s) URL; `email`: an address, optionally with a display name (`Ops <ops@x.io>`) */
  format?: 'url' | 'email';
  /** for integers */
  minimum?: number;
  maximum?: number;
  description?: string;
}

export interface CredentialTypeDefinition {
  /** e.g. `smtp`, `evm-signer` */
  type: string;
  title: string;
  /** names of the fields that hold secrets (redacted everywhere) */
  secretFields: string[];
  /**
   * The shape of `data`: the vault refuses a credential of this type whose data does not match (unknown
   * fields included), so a typo is caught when it is stored rather than when a node first needs it.
   */
  fields?: Record<string, CredentialFieldDefinition>;
}

/** The credential type's `data` as JSON schema (the editor renders a form from it). */
export function credentialDataJsonSchema(def: CredentialTypeDefinition): object {
  const properties: Record<string, object> = {};
  const required: string[] = [];
  for (const [name, f] of Object.entries(def.fields ?? {})) {
    properties[name] = {
      type: f.type,
      ...(f.enum ? { enum: f.enum } : {}),
      ...(f.format === 'url' ? { format: 'uri' } : {}),
      ...(f.minimum !== undefined ? { minimum: f.minimum } : {}),
      ...(f.maximum !== undefined ? { maximum: f.maximum } : {}),
      ...(f.secret || def.secretFields.includes(name) ? { writeOnly: true } : {}),
      ...(f.description ? { description: f.description } : {}),
    };
    if (f.required !== false) required.push(name);
  }
  return { type: 'object', properties, required, additionalProperties: def.fields === undefined };
}

function isHttpUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}

const EMAIL = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;
/** `a@b.c` or `Name <a@b.c>` */
export function isEmailAddress(value: string): boolean {
  const m = /^[^<>]*<([^<>]+)>\s*$/.exec(value);
  return EMAIL.test((m ? m[1]! : value).trim());
}

/**
 * What is wrong with a credential's data for its type (empty when it matches). Messages name the field
 * and never quote a value: the data is secret.
 */
export function validateCredentialData(def: CredentialTypeDefinition, data: unknown): ParamProblem[] {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return [{ path: 'data', message: 'data must be a JSON object' }];
  if (!def.fields) return [];
  const problems: ParamProblem[] = [];
  const d = data as Record<string, unknown>;
  for (const key of Object.keys(d)) {
    if (!(key in def.fields)) problems.push({ path: `data.${key}`, message: `unknown field "${key}" for a ${def.type} credential (fields: ${Object.keys(def.fields).join(', ')})` });
  }
  for (const [name, f] of Object.entries(def.fields)) {
    const v = d[name];
    const path = `data.${name}`;
    if (v === undefined || v === null || v === '') {
      if (f.required !== false) problems.push({ path, message: `${name} is required for a ${def.type} credential` });
      continue;
    }
    if (f.type === 'string' && typeof v !== 'string') problems.push({ path, message: `${name} must be a string` });
    else if (f.type === 'integer' && !Number.isInteger(v)) problems.push({ path, message: `${name} must be an integer` });
    else if (f.type === 'boolean' && typeof v !== 'boolean') problems.push({ path, message: `${name} must be true or false` });
    else if (f.enum && !f.enum.includes(v as string | number)) problems.push({ path, message: `${name} must be one of ${f.enum.join(', ')}` });
    else if (f.type === 'integer' && ((f.minimum !== undefined && (v as number) < f.minimum) || (f.maximum !== undefined && (v as number) > f.maximum))) {
      problems.push({ path, message: `${name} must be between ${f.minimum ?? '-∞'} and ${f.maximum ?? '∞'}` });
    } else if (f.format === 'url') {
      if (!isHttpUrl(v as string)) problems.push({ path, message: `${name} must be an absolute http or https URL` });
    } else if (f.format === 'email' && !isEmailAddress(v as string)) problems.push({ path, message: `${name} must be an email address` });
  }
  return problems;
}

/** JSON-schema keyword that marks a param naming a credential, with the credential type it expects. */
export const CREDENTIAL_TYPE_KEYWORD = 'x-credential-type';

/**
 * Marks a param that names a credential (by name or id) of the given type. The expected type is stored
 * in the params JSON schema (`x-credential-type`), so the daemon can refuse at save time a credential
 * that exists with another type, for local and remote (worker-served) node types alike.
 */
export function CredentialRef(type: string, options?: ValidationOptions): PropertyDecorator {
  const schema = JSONSchema({ type: 'string', minLength: 1, [CREDENTIAL_TYPE_KEYWORD]: type, description: `Name (or id) of a ${type} credential.` } as Parameters<typeof JSONSchema>[0]);
  return (target: object, propertyName: string | symbol) => {
    schema(target, propertyName as string);
    registerDecorator({
      name: 'isCredentialRef',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown) => typeof value === 'string' && value.trim() !== '' && value.length <= 200,
        defaultMessage: (args) => `${args?.property} must name a ${type} credential (1-200 characters)`,
      },
    });
  };
}

/** param name → expected credential type, read from a params JSON schema (see CredentialRef) */
export function credentialParamsOf(paramsSchema: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const props = (paramsSchema as { properties?: Record<string, Record<string, unknown>> } | undefined)?.properties;
  if (!props || typeof props !== 'object') return out;
  for (const [name, p] of Object.entries(props)) {
    const t = p?.[CREDENTIAL_TYPE_KEYWORD];
    if (typeof t === 'string') out[name] = t;
  }
  return out;
}

/**
 * The credential references of one node's params that can be checked before a run: fixed strings
 * (an `=expression` is only known at run time).
 */
export function staticCredentialRefs(paramsSchema: unknown, params: unknown): Array<{ param: string; ref: string; expectedType: string }> {
  const out: Array<{ param: string; ref: string; expectedType: string }> = [];
  if (typeof params !== 'object' || params === null) return out;
  for (const [param, expectedType] of Object.entries(credentialParamsOf(paramsSchema))) {
    const ref = (params as Record<string, unknown>)[param];
    if (typeof ref === 'string' && ref !== '' && !isExpression(ref)) out.push({ param, ref, expectedType });
  }
  return out;
}
