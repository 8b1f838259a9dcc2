import { REDACTED, type Redactor } from '@anchorflow/security';
import type { LoggerOptions } from 'pino';
import type { SecretRegistry } from '../core/secret-registry.js';

const OBJECT_PROTOTYPE = Object.prototype;

/** Values the redactor can copy faithfully; other class instances (req, res, sockets) are left to pino's serializers. */
function redactable(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return true;
  const proto = Object.getPrototypeOf(value);
  return proto === OBJECT_PROTOTYPE || proto === null || Array.isArray(value) || value instanceof Error || value instanceof Map || value instanceof Set;
}

function redactLogObject(redactor: Redactor, obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(obj)) {
    const value = obj[key];
    if (redactor.isSensitiveKey(key) && value != null) out[key] = REDACTED;
    else out[key] = redactable(value) ? redactor.redact(value) : value;
  }
  return out;
}

/**
 * pino options that pass every log line through the secret redactor: the merging object
 * (`formatters.log`: registered secrets by value, sensitive keys, secret shapes, at any depth) and the
 * message and its format arguments (`hooks.logMethod`, including the message pino takes from a logged
 * Error). Child-logger bindings are not redacted: they hold ids, never data.
 *
 * Not done on the final JSON line: a registered secret like "1000" would be replaced inside numbers and
 * break the JSON; redacting values before serialization cannot.
 */
export function redactingLogOptions(secrets: SecretRegistry): Pick<LoggerOptions, 'formatters' | 'hooks'> {
  const redactor = secrets.logs;
  return {
    formatters: { log: (obj) => redactLogObject(redactor, obj) },
    hooks: {
      logMethod(args, method) {
        const redacted = args.map((arg, i) => (typeof arg === 'string' ? redactor.redactString(arg) : i === 0 && arg instanceof Error ? redactor.redact(arg) : arg));
        return method.apply(this, redacted as Parameters<typeof method>);
      },
    },
  };
}
