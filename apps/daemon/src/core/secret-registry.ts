import { Redactor } from '@anchorflow/security';

/**
 * The daemon's one place that knows which strings are secret: every decrypted credential value (registered
 * by the credentials service on start, create, update and use), the admin key, the JWT secret and the
 * master key. Two redactors share that list:
 *
 * - `logs`: secrets by value + sensitive key names (`password`, `authorization`, …) + secret shapes
 *   (`Bearer …`, `afk_…` API keys, JWTs, URL passwords). For log lines (pino hooks) and API error bodies,
 *   where over-redaction costs nothing.
 * - `nodeData`: registered secrets by value only. For node outputs and errors, which are user data
 *   flowing between nodes: a field named `token` or a JWT a workflow handles on purpose must survive, a
 *   credential's value must not.
 *
 * Registering every string leaf of a credential also masks its non-secret fields (a host, a user name)
 * wherever they occur: over-redaction by design (see @anchorflow/security README §5).
 */
export class SecretRegistry {
  readonly logs = new Redactor();
  readonly nodeData = new Redactor({ sensitiveKeys: [], sensitiveKeySuffixes: [], patterns: false });

  /**
   * A secret of the daemon itself (admin key, JWT secret, master key): masked in logs and error bodies.
   * Not searched for in node data, where it never goes: node outputs are only copied for redaction once
   * a credential exists.
   */
  addDaemonSecret(value: string | undefined): void {
    if (typeof value !== 'string' || value.trim() === '') return;
    this.logs.addSecret(value);
  }

  /** One secret string (values shorter than 4 characters are ignored). */
  addSecret(value: string | undefined): void {
    if (typeof value !== 'string' || value.trim() === '') return;
    this.logs.addSecret(value);
    this.nodeData.addSecret(value);
  }

  /** Every string leaf of a decrypted credential. */
  addSecretsFrom(data: unknown): void {
    this.logs.addSecretsFrom(data);
    this.nodeData.addSecretsFrom(data);
  }

  /** Whether node data needs a redaction pass at all (none while no credential was ever seen). */
  get hasNodeSecrets(): boolean {
    return this.nodeData.secretCount > 0;
  }
}
