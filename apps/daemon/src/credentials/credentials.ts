import { randomUUID } from 'node:crypto';
import { isSecurityError, type Vault } from '@anchorflow/security';
import { NodeError, parseAllowHosts, validateCredentialData, withCredentialAllowHosts, type CredentialsAccessor, type CredentialTypeDefinition } from '@anchorflow/plugin-sdk';
import { ApiError } from '../common/api-error.js';
import type { SecretRegistry } from '../core/secret-registry.js';
import type { CredentialMeta, CredentialRecord, CredentialScopes, CredentialStore } from './credential.store.js';

export const CREDENTIAL_TYPE_PATTERN = /^[A-Za-z][A-Za-z0-9._-]{0,99}$/;
export const MAX_CREDENTIAL_NAME_LENGTH = 200;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface CreateCredentialInput {
  type: string;
  name: string;
  data: Record<string, unknown>;
  scopes?: CredentialScopes;
}

export interface UpdateCredentialInput {
  data: Record<string, unknown>;
  name?: string;
  /** replaces the scopes; absent: kept */
  scopes?: CredentialScopes;
}

/** The node attempt asking for a credential: what its scopes are checked against. */
export interface CredentialUse {
  executionId: string;
  workflowId: string;
  nodeId: string;
  nodeType: string;
}

/** A run-time refusal (issue 17): logged by the daemon; the node fails with CREDENTIAL_OUT_OF_SCOPE, recorded in the execution. */
export type ScopeRefusal = CredentialUse & { credentialId: string; credential: string; reason: string };

const MAX_SCOPE_ENTRIES = 1000;
const NODE_TYPE = /^[A-Za-z0-9@][A-Za-z0-9@._/-]{0,199}$/;

/** What is wrong with a scopes object (messages name the list and the entry). */
export function scopeProblems(scopes: unknown, problems: Array<{ path: string; message: string }>): void {
  if (scopes === undefined) return;
  if (!isPlainObject(scopes)) {
    problems.push({ path: 'scopes', message: 'scopes must be an object: { workflows?, nodeTypes?, allowHosts? }' });
    return;
  }
  for (const key of Object.keys(scopes)) {
    if (!['workflows', 'nodeTypes', 'allowHosts'].includes(key)) problems.push({ path: `scopes.${key}`, message: `scopes.${key} is not a scope (workflows, nodeTypes, allowHosts)` });
  }
  const list = (key: 'workflows' | 'nodeTypes' | 'allowHosts', valid: (s: string) => string | undefined): void => {
    const value = scopes[key];
    if (value === undefined) return;
    if (!Array.isArray(value) || value.length > MAX_SCOPE_ENTRIES || value.some((v) => typeof v !== 'string')) {
      problems.push({ path: `scopes.${key}`, message: `scopes.${key} must be a list of at most ${MAX_SCOPE_ENTRIES} strings` });
      return;
    }
    for (const [i, entry] of (value as string[]).entries()) {
      const why = valid(entry);
      if (why) problems.push({ path: `scopes.${key}[${i}]`, message: `scopes.${key}[${i}] ${why}` });
    }
  };
  list('workflows', (s) => (UUID.test(s) ? undefined : 'must be a workflow id (uuid)'));
  list('nodeTypes', (s) => (NODE_TYPE.test(s) ? undefined : 'must be a node type such as notify.webhook'));
  list('allowHosts', (s) => {
    try {
      parseAllowHosts([s]);
      return s.trim() === '' ? 'must not be empty' : undefined;
    } catch (err) {
      return `is not a host name, *.suffix, address or CIDR range (${(err as Error).message})`;
    }
  });
}

function normalizedScopes(scopes: CredentialScopes | undefined): CredentialScopes {
  if (!scopes) return {};
  const out: CredentialScopes = {};
  if (scopes.workflows) out.workflows = [...new Set(scopes.workflows.map((w) => w.toLowerCase()))];
  if (scopes.nodeTypes) out.nodeTypes = [...new Set(scopes.nodeTypes)];
  if (scopes.allowHosts) out.allowHosts = [...new Set(scopes.allowHosts.map((h) => h.trim().toLowerCase()))];
  return out;
}

/** Why `use` is outside the credential's scopes, or undefined when it is inside. */
export function outOfScope(scopes: CredentialScopes, use: { workflowId?: string; nodeType: string }): string | undefined {
  if (scopes.nodeTypes && !scopes.nodeTypes.includes(use.nodeType)) return `node type ${use.nodeType} is not in its scope (nodeTypes: ${scopes.nodeTypes.join(', ') || 'none'})`;
  if (scopes.workflows && (use.workflowId === undefined || !scopes.workflows.includes(use.workflowId.toLowerCase()))) {
    return use.workflowId === undefined ? 'it is limited to listed workflows, and a new workflow is in none of them yet (save it first, then have an admin add its id)' : `workflow ${use.workflowId} is not in its scope`;
  }
  return undefined;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);
}

function invalid(problems: Array<{ path: string; message: string }>): ApiError {
  return new ApiError(400, 'INVALID_REQUEST', `request is invalid: ${problems.map((p) => p.message).join('; ')}`, problems);
}

function hasControlCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

function checkName(name: unknown, problems: Array<{ path: string; message: string }>): void {
  if (typeof name !== 'string' || name.trim() === '' || name.length > MAX_CREDENTIAL_NAME_LENGTH || hasControlCharacter(name)) {
    problems.push({ path: 'name', message: `name must be 1-${MAX_CREDENTIAL_NAME_LENGTH} characters without control characters` });
  }
}

function notFound(id: string): ApiError {
  return new ApiError(404, 'NOT_FOUND', `credential ${JSON.stringify(String(id).slice(0, 100))} not found`);
}

function nameTaken(name: string): ApiError {
  return new ApiError(409, 'CONFLICT', `a credential named ${JSON.stringify(name)} exists already`, { name });
}

/**
 * The credentials vault: data is encrypted with the master key (AES-256-GCM, bound to the row's id and
 * type) before it is stored, and only ever decrypted for a node that asks for it by name or id
 * (`accessor()`, EngineDeps.credentials). The API sees metadata only. Every decrypted value is
 * registered with the SecretRegistry, so it is redacted from node outputs, node errors and logs.
 */
/** The credential types plugins declare (DaemonPlugins.credentialTypes); undefined for a type no plugin declares. */
export type CredentialTypes = (type: string) => CredentialTypeDefinition | undefined;

export class Credentials {
  constructor(
    private readonly store: CredentialStore,
    private readonly vault: Vault,
    private readonly secrets: SecretRegistry,
    private readonly now: () => Date = () => new Date(),
    /** data of a declared type is checked against its fields; other types stay free-form */
    private readonly types: CredentialTypes = () => undefined,
    /** told of every run-time scope refusal (the daemon logs it) */
    private readonly onRefused: (refusal: ScopeRefusal) => void = () => undefined,
  ) {}

  /**
   * Registers a credential's values for redaction. For a type a plugin declares, its secret fields only:
   * masking an SMTP credential's `security: "none"` or its host in every node output would garble user
   * data for nothing. For free-form types, every string leaf (we cannot tell which are secret).
   */
  private registerSecrets(type: string, data: unknown, executionId?: string): void {
    const def = this.types(type);
    const add = (value: unknown): void => (executionId === undefined ? this.secrets.addSecretsFrom(value) : this.secrets.addExecutionSecretsFrom(executionId, value));
    if (!def || typeof data !== 'object' || data === null) {
      add(data);
      return;
    }
    for (const field of def.secretFields) add((data as Record<string, unknown>)[field]);
  }

  /** what is wrong with `data` for a type a plugin declares (messages name fields, never values) */
  private checkData(type: string, data: unknown, problems: Array<{ path: string; message: string }>): void {
    const def = this.types(type);
    if (def) problems.push(...validateCredentialData(def, data));
  }

  async create(input: CreateCredentialInput): Promise<CredentialMeta> {
    const problems: Array<{ path: string; message: string }> = [];
    if (typeof input.type !== 'string' || !CREDENTIAL_TYPE_PATTERN.test(input.type)) {
      problems.push({ path: 'type', message: 'type must start with a letter and hold only letters, digits, . _ - (at most 100)' });
    }
    checkName(input.name, problems);
    if (!isPlainObject(input.data)) problems.push({ path: 'data', message: 'data must be a JSON object' });
    else if (typeof input.type === 'string') this.checkData(input.type, input.data, problems);
    scopeProblems(input.scopes, problems);
    if (problems.length) throw invalid(problems);
    const id = randomUUID();
    const at = this.now();
    const scopes = normalizedScopes(input.scopes);
    const record = this.vault.encrypt(input.data, { id, type: input.type });
    this.registerSecrets(input.type, input.data);
    const outcome = await this.store.insert({ id, type: input.type, name: input.name, scopes, record, createdAt: at, updatedAt: at });
    if (outcome === 'name-taken') throw nameTaken(input.name);
    return { id, type: input.type, name: input.name, scopes, createdAt: at, updatedAt: at };
  }

  list(): Promise<CredentialMeta[]> {
    return this.store.list();
  }

  async get(id: string): Promise<CredentialMeta> {
    const row = UUID.test(id) ? await this.store.get(id.toLowerCase()) : undefined;
    if (!row) throw notFound(id);
    const { record: _record, ...meta } = row;
    return meta;
  }

  /** Replaces the data (re-encrypted under the current master key); optionally renames. */
  async update(id: string, input: UpdateCredentialInput): Promise<CredentialMeta> {
    const problems: Array<{ path: string; message: string }> = [];
    if (!isPlainObject(input.data)) problems.push({ path: 'data', message: 'data must be a JSON object' });
    if (input.name !== undefined) checkName(input.name, problems);
    scopeProblems(input.scopes, problems);
    if (problems.length) throw invalid(problems);
    const existing = UUID.test(id) ? await this.store.get(id.toLowerCase()) : undefined;
    if (!existing) throw notFound(id);
    this.checkData(existing.type, input.data, problems);
    if (problems.length) throw invalid(problems);
    const record = this.vault.encrypt(input.data, { id: existing.id, type: existing.type });
    this.registerSecrets(existing.type, input.data);
    const updated = await this.store.update(existing.id, { record, name: input.name, ...(input.scopes !== undefined ? { scopes: normalizedScopes(input.scopes) } : {}), updatedAt: this.now() });
    if (updated === 'not-found') throw notFound(id);
    if (updated === 'name-taken') throw nameTaken(input.name!);
    const { record: _record, ...meta } = updated;
    return meta;
  }

  async delete(id: string): Promise<void> {
    // the values stay registered for redaction: they were secret, and may still sit in old outputs
    if (!UUID.test(id) || !(await this.store.delete(id.toLowerCase()))) throw notFound(id);
  }

  /** The type, name and scopes of the credential a node param names (by id or by name), without decrypting it. */
  async describe(ref: string): Promise<{ type: string; name: string; scopes: CredentialScopes } | undefined> {
    const row = await this.find(ref);
    return row ? { type: row.type, name: row.name, scopes: row.scopes ?? {} } : undefined;
  }

  private async find(ref: string): Promise<CredentialRecord | undefined> {
    const name = typeof ref === 'string' ? ref : '';
    return (UUID.test(name) ? await this.store.get(name.toLowerCase()) : undefined) ?? (name !== '' ? await this.store.findByName(name) : undefined);
  }

  /**
   * The decrypted data of the credential a node refers to, by id or by name. NodeError (not retryable)
   * when it does not exist, cannot be decrypted (wrong master key, tampered row), or — for a node
   * attempt (`use`) — when the node's workflow or type is outside the credential's scopes
   * (CREDENTIAL_OUT_OF_SCOPE). With `use`, the values are redacted from that execution's node data
   * (issue 17: only there), and a host scope rides along for ctx.fetch to enforce.
   */
  async resolve<T extends object = Record<string, unknown>>(ref: string, use?: CredentialUse): Promise<T> {
    const name = typeof ref === 'string' ? ref : '';
    const row = await this.find(name);
    if (!row) throw new NodeError(`credential ${JSON.stringify(name.slice(0, 200))} not found`, 'CREDENTIAL_NOT_FOUND');
    const scopes = row.scopes ?? {};
    const refused = use ? outOfScope(scopes, use) : undefined;
    if (use && refused) {
      this.onRefused({ ...use, credentialId: row.id, credential: row.name, reason: refused });
      throw new NodeError(`credential ${JSON.stringify(row.name)} may not be used by node ${use.nodeId}: ${refused}`, 'CREDENTIAL_OUT_OF_SCOPE', { credential: row.name, nodeId: use.nodeId, nodeType: use.nodeType, workflowId: use.workflowId });
    }
    let data: T;
    try {
      data = this.vault.decrypt<T>(row.record, { id: row.id, type: row.type });
    } catch (err) {
      if (isSecurityError(err)) {
        throw new NodeError(`credential ${JSON.stringify(row.name)} cannot be decrypted with this daemon's master key`, 'CREDENTIAL_UNREADABLE', { credentialId: row.id, kid: row.record.kid });
      }
      throw err;
    }
    this.registerSecrets(row.type, data, use?.executionId);
    return scopes.allowHosts && data !== null && typeof data === 'object' ? withCredentialAllowHosts(data, row.name, scopes.allowHosts) : data;
  }

  /** EngineDeps.credentials: unscoped (services, tests); node attempts go through forJob (securedTransport) */
  accessor(): CredentialsAccessor {
    return { get: <T extends object = Record<string, unknown>>(ref: string) => this.resolve<T>(ref) };
  }

  /** The accessor one node attempt gets: scopes checked against it, values redacted from its execution. */
  forJob(use: CredentialUse): CredentialsAccessor {
    return { get: <T extends object = Record<string, unknown>>(ref: string) => this.resolve<T>(ref, use) };
  }

  /**
   * Start-up: decrypts every credential once to register its values for redaction. Rows this master key
   * cannot decrypt are reported (another daemon's key, a rotation not finished), not fatal.
   */
  async registerAllSecrets(): Promise<{ registered: number; unreadable: Array<{ id: string; name: string; kid: string }> }> {
    let registered = 0;
    const unreadable: Array<{ id: string; name: string; kid: string }> = [];
    for (const row of await this.store.all()) {
      try {
        this.registerSecrets(row.type, this.vault.decrypt(row.record, { id: row.id, type: row.type }));
        registered++;
      } catch (err) {
        if (!isSecurityError(err)) throw err;
        unreadable.push({ id: row.id, name: row.name, kid: row.record.kid });
      }
    }
    return { registered, unreadable };
  }
}
