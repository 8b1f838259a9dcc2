import { Redactor } from '@anchorflow/security';

/** executions whose redactors are kept (least recently used beyond are forgotten; see forExecution) */
const MAX_EXECUTIONS = 10_000;

/**
 * The daemon's one place that knows which strings are secret: every decrypted credential value (registered
 * by the credentials service on start, create, update and use), the admin key, the JWT secret and the
 * master key. Two kinds of redactor:
 *
 * - `logs`: every secret by value + sensitive key names (`password`, `authorization`, …) + secret shapes
 *   (`Bearer …`, `afk_…` API keys, JWTs, URL passwords). For log lines (pino hooks), API error bodies and
 *   the audit log, where over-redaction costs nothing and no workflow author sees the difference.
 * - one per execution (`forExecution`): the values of the credentials THAT execution's nodes resolved,
 *   with their base64 and hex forms, by value only. For node outputs and errors, which are user data
 *   flowing between nodes: a field named `token` or a JWT a workflow handles on purpose must survive, a
 *   credential's value must not. Scoped to the execution (issue 17) so that a workflow that never
 *   resolves a credential cannot learn whether a guessed string is its value (`[REDACTED]` would answer).
 *
 * Registering every string leaf of a credential also masks its non-secret fields (a host, a user name)
 * wherever they occur in that execution: over-redaction by design (see @anchorflow/security README §5).
 */
export class SecretRegistry {
  /** caches short strings: the audit log redacts the same ids and actions for every engine event */
  readonly logs = new Redactor({ cachedStrings: 10_000 });
  /** insertion order = least recently used first */
  private readonly executions = new Map<string, Redactor>();

  constructor(private readonly maxExecutions = MAX_EXECUTIONS) {}

  /** A secret of the daemon itself (admin key, JWT secret, master key): masked in logs and error bodies. */
  addDaemonSecret(value: string | undefined): void {
    if (typeof value !== 'string' || value.trim() === '') return;
    this.logs.addSecret(value);
  }

  /** One secret string, for logs (values shorter than 4 characters are ignored). */
  addSecret(value: string | undefined): void {
    if (typeof value !== 'string' || value.trim() === '') return;
    this.logs.addSecret(value);
  }

  /** Every string leaf of a decrypted credential, for logs. */
  addSecretsFrom(data: unknown): void {
    this.logs.addSecretsFrom(data);
  }

  /** Every string leaf of a credential a node of `executionId` resolved: for logs, and for that execution's node data. */
  addExecutionSecretsFrom(executionId: string, data: unknown): void {
    this.logs.addSecretsFrom(data);
    let redactor = this.executions.get(executionId);
    if (redactor) this.executions.delete(executionId);
    else redactor = new Redactor({ sensitiveKeys: [], sensitiveKeySuffixes: [], patterns: false, encodedForms: true });
    redactor.addSecretsFrom(data);
    this.executions.set(executionId, redactor);
    if (this.executions.size > this.maxExecutions) this.executions.delete(this.executions.keys().next().value!);
  }

  /**
   * The redactor for one execution's node data, or undefined when none of its nodes resolved a credential
   * (in this process: after a restart, from the first resolve on — outputs stored before were redacted
   * when they were produced).
   */
  forExecution(executionId: string): Redactor | undefined {
    return this.executions.get(executionId);
  }
}
