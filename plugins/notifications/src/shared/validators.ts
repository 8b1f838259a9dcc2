import { isEmailAddress, registerDecorator, type ValidationOptions } from '@anchorflow/plugin-sdk';
import { templateSyntaxError } from './template.js';

/** A validator from one function returning what is wrong (undefined when fine); the message names the property. */
export function Check(name: string, problem: (value: unknown) => string | undefined, options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name,
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value) => problem(value) === undefined,
        defaultMessage: (args) => {
          const what = problem(args?.value) ?? 'is invalid';
          // an entry of a list reads `to[1] …`
          return what.startsWith('[') ? `${args?.property}${what}` : `${args?.property} ${what}`;
        },
      },
    });
  };
}

/** One address or a list of them (`a@b.c`, `Name <a@b.c>`), each checked. */
export function IsAddressList(options?: ValidationOptions): PropertyDecorator {
  return Check(
    'isAddressList',
    (value) => {
      const list = typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter(Boolean) : value;
      if (!Array.isArray(list) || list.length === 0) return 'must be an email address or a non-empty list of them';
      for (const [i, a] of list.entries()) {
        if (typeof a !== 'string' || !isEmailAddress(a)) return `[${i}] ${JSON.stringify(String(a).slice(0, 100))} is not a valid email address`;
      }
      return undefined;
    },
    options,
  );
}

/** A Mustache template that parses; the message carries Mustache's position. */
export function IsTemplate(options?: ValidationOptions): PropertyDecorator {
  return Check(
    'isTemplate',
    (value) => {
      if (typeof value !== 'string') return 'must be a string (a Mustache template)';
      const err = templateSyntaxError(value);
      return err ? `is not a valid template: ${err}` : undefined;
    },
    options,
  );
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Object of header name → string value, without CR/LF/NUL. */
export function IsHeaderMap(options?: ValidationOptions): PropertyDecorator {
  return Check(
    'isHeaderMap',
    (value) => {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'must be an object of header name → string value';
      for (const [name, v] of Object.entries(value)) {
        if (!HEADER_NAME.test(name)) return `has an invalid header name ${JSON.stringify(name)}`;
        if (typeof v !== 'string') return `value of ${JSON.stringify(name)} must be a string`;
        if (/[\r\n\0]/.test(v)) return `value of ${JSON.stringify(name)} must not contain CR, LF or NUL`;
      }
      return undefined;
    },
    options,
  );
}

/** Absolute http(s) URL without user info. */
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
      return url.username || url.password ? 'must not contain credentials; use a credential' : undefined;
    },
    options,
  );
}

/** An array of JSON objects (Slack blocks, Discord embeds), at most `max`. */
export function IsObjectList(max: number, options?: ValidationOptions): PropertyDecorator {
  return Check(
    'isObjectList',
    (value) => {
      if (!Array.isArray(value)) return 'must be a list of objects';
      if (value.length > max) return `must hold at most ${max} entries`;
      const bad = value.findIndex((v) => typeof v !== 'object' || v === null || Array.isArray(v));
      return bad >= 0 ? `[${bad}] must be an object` : undefined;
    },
    options,
  );
}
