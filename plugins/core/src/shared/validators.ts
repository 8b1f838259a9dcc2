import { registerDecorator, ValidateIf, type ValidationOptions } from '@anchorflow/plugin-sdk';

/** JSON-ish object: not null, not an array. Inputs and params are JSON, so no prototype checks are needed. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * For a param with a default value: validates whatever the user gave (including null) and skips the check
 * only when the key was omitted. `@IsOptional()` would also let an explicit null through to execute, and
 * without either the JSON schema would list the param as required although it has a default.
 */
export function Defaulted(): PropertyDecorator {
  return ValidateIf((_object: unknown, value: unknown) => value !== undefined);
}

/**
 * A validator from one function that returns what is wrong (or undefined when fine), so the message can
 * name the exact key or entry instead of a generic "is invalid". The message is prefixed with the
 * property name unless it starts with `[` (an entry of a list: `cases[1].port ...`).
 */
export function Check(name: string, problem: (value: unknown, object: Record<string, unknown>) => string | undefined, options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name,
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value, args) => problem(value, (args?.object ?? {}) as Record<string, unknown>) === undefined,
        defaultMessage: (args) => {
          const what = problem(args?.value, (args?.object ?? {}) as Record<string, unknown>) ?? 'is invalid';
          return what.startsWith('[') ? `${args?.property}${what}` : `${args?.property} ${what}`;
        },
      },
    });
  };
}

/** http(s) URL with a host; parsed the way fetch will parse it, so what passes here is what fetch accepts. */
export function IsHttpUrl(options?: ValidationOptions): PropertyDecorator {
  return Check(
    'isHttpUrl',
    (value) => {
      if (typeof value !== 'string' || value === '') return 'must be an http or https URL';
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        return 'must be an absolute http or https URL';
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return `must use http or https, not ${url.protocol.slice(0, -1)}`;
      if (url.hostname === '') return 'must name a host';
      // fetch refuses such URLs outright
      return url.username || url.password ? 'must not contain credentials; send them in a header' : undefined;
    },
    options,
  );
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// fetch rejects these in a header value with a TypeError, which would otherwise be retried as transient
const HEADER_VALUE_FORBIDDEN = /[\r\n\0]/;

/** Object of HTTP header name → string value. */
export function IsHeaderMap(options?: ValidationOptions): PropertyDecorator {
  return Check(
    'isHeaderMap',
    (value) => {
      if (!isPlainObject(value)) return 'must be an object of header name → string value';
      for (const [name, v] of Object.entries(value)) {
        if (!HEADER_NAME.test(name)) return `has an invalid header name ${JSON.stringify(name)}`;
        if (typeof v !== 'string') return `value of ${JSON.stringify(name)} must be a string`;
        if (HEADER_VALUE_FORBIDDEN.test(v)) return `value of ${JSON.stringify(name)} must not contain CR, LF or NUL`;
      }
      return undefined;
    },
    options,
  );
}
