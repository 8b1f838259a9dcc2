import { describe, expect, it } from '@jest/globals';
import { NodeError } from '@anchorflow/plugin-sdk';
import { generateMasterKey, Vault } from '@anchorflow/security';
import { ApiError } from '../common/api-error.js';
import { SecretRegistry } from '../core/secret-registry.js';
import { MemoryCredentialStore } from './credential.store.js';
import { Credentials } from './credentials.js';

function setup() {
  const store = new MemoryCredentialStore();
  const secrets = new SecretRegistry();
  const key = generateMasterKey();
  return { store, secrets, key, credentials: new Credentials(store, new Vault(key), secrets) };
}

describe('Credentials', () => {
  it('stores data only as ciphertext and shows metadata only', async () => {
    const { credentials, store } = setup();
    const meta = await credentials.create({ type: 'smtp', name: 'mail', data: { user: 'u', password: 's3cret-pass' } });
    expect(Object.keys(meta).sort()).toEqual(['createdAt', 'id', 'name', 'scopes', 'type', 'updatedAt']);
    const row = (await store.all())[0]!;
    expect(JSON.stringify(row)).not.toContain('s3cret-pass');
    expect(row.record).toEqual({ kid: expect.any(String), iv: expect.any(String), tag: expect.any(String), ciphertext: expect.any(String) });
    expect(await credentials.list()).toEqual([meta]);
    expect(await credentials.get(meta.id)).toEqual(meta);
    expect(await credentials.get(meta.id.toUpperCase())).toEqual(meta);
  });

  it('resolves by name or id for nodes, and registers every value for redaction in the execution that resolved it only', async () => {
    const { credentials, secrets } = setup();
    const meta = await credentials.create({ type: 'api', name: 'svc', data: { token: 'tok-123456', nested: { pin: '98765' } } });
    const use = (executionId: string) => ({ executionId, workflowId: 'f0000000-0000-4000-8000-000000000001', nodeId: 'n', nodeType: 'test.node' });
    expect(await credentials.forJob(use('e1')).get('svc')).toEqual({ token: 'tok-123456', nested: { pin: '98765' } });
    expect(await credentials.forJob(use('e1')).get(meta.id)).toEqual({ token: 'tok-123456', nested: { pin: '98765' } });
    expect(secrets.forExecution('e1')!.redact({ out: 'Bearer tok-123456 / 98765' })).toEqual({ out: 'Bearer [REDACTED] / [REDACTED]' });
    // another execution, which resolved nothing, is not an oracle for guesses
    expect(secrets.forExecution('e2')).toBeUndefined();
    // logs are redacted everywhere
    expect(secrets.logs.redactString('x tok-123456')).toBe('x [REDACTED]');
    const missing = await credentials.resolve('nope').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NodeError);
    expect(missing).toMatchObject({ code: 'CREDENTIAL_NOT_FOUND', retryable: false });
  });

  it('replaces data (new ciphertext), renames, refuses a taken name, deletes', async () => {
    const { credentials, store, secrets } = setup();
    const a = await credentials.create({ type: 'api', name: 'a', data: { k: 'first-value' } });
    await credentials.create({ type: 'api', name: 'b', data: { k: 'other-value' } });
    const before = (await store.get(a.id))!.record;
    const updated = await credentials.update(a.id, { data: { k: 'second-value' }, name: 'a2' });
    expect(updated).toMatchObject({ id: a.id, name: 'a2', type: 'api' });
    expect((await store.get(a.id))!.record.ciphertext).not.toBe(before.ciphertext);
    expect(await credentials.resolve('a2')).toEqual({ k: 'second-value' });
    // the old value stays secret
    expect(secrets.logs.redactString('first-value second-value')).toBe('[REDACTED] [REDACTED]');
    await expect(credentials.update(a.id, { data: {}, name: 'b' })).rejects.toMatchObject({ status: 409 });
    await expect(credentials.create({ type: 'api', name: 'b', data: {} })).rejects.toMatchObject({ status: 409 });
    await credentials.delete(a.id);
    await expect(credentials.get(a.id)).rejects.toMatchObject({ status: 404 });
    await expect(credentials.delete(a.id)).rejects.toMatchObject({ status: 404 });
    await expect(credentials.get('not-a-uuid')).rejects.toMatchObject({ status: 404 });
  });

  it('validates type, name and data', async () => {
    const { credentials } = setup();
    const err = await credentials.create({ type: '9 bad', name: '', data: [] as unknown as Record<string, unknown> }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).details).toEqual([
      { path: 'type', message: expect.any(String) },
      { path: 'name', message: expect.any(String) },
      { path: 'data', message: expect.any(String) },
    ]);
  });

  it('reports rows another master key wrote (start-up) and fails nodes using them, without a secret in the error', async () => {
    const { store, secrets } = setup();
    const other = new Credentials(store, new Vault(generateMasterKey()), new SecretRegistry());
    await other.create({ type: 'api', name: 'foreign', data: { k: 'foreign-secret' } });
    const mine = new Credentials(store, new Vault(generateMasterKey()), secrets);
    await mine.create({ type: 'api', name: 'mine', data: { k: 'my-secret' } });
    const fresh = new SecretRegistry();
    const result = await new Credentials(store, new Vault(generateMasterKey()), fresh).registerAllSecrets();
    expect(result.registered).toBe(0);
    expect(result.unreadable.map((u) => u.name).sort()).toEqual(['foreign', 'mine']);
    const err = await mine.resolve('foreign').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CREDENTIAL_UNREADABLE', retryable: false });
    expect(JSON.stringify(err)).not.toContain('foreign-secret');
    const reg = new SecretRegistry();
    expect((await new Credentials(store, new Vault(generateMasterKey()), reg).registerAllSecrets()).registered).toBe(0);
  });
});

describe('credential scopes (issue 17)', () => {
  const WF = 'a0000000-0000-4000-8000-00000000000a';
  const OTHER = 'b0000000-0000-4000-8000-00000000000b';
  const use = (over: Partial<{ workflowId: string; nodeType: string }> = {}) => ({ executionId: 'e1', workflowId: WF, nodeId: 'send', nodeType: 'notify.webhook', ...over });

  it('refuses a node outside the workflows or node types of the scope, naming node and credential, and reports the refusal', async () => {
    const refusals: unknown[] = [];
    const secrets = new SecretRegistry();
    const credentials = new Credentials(new MemoryCredentialStore(), new Vault(generateMasterKey()), secrets, undefined, undefined, (r) => refusals.push(r));
    await credentials.create({ type: 'api', name: 'hook-secret', data: { secret: 'scoped-secret-value' }, scopes: { workflows: [WF], nodeTypes: ['notify.webhook'] } });
    await expect(credentials.forJob(use()).get('hook-secret')).resolves.toEqual({ secret: 'scoped-secret-value' });
    const otherWorkflow = await credentials.forJob(use({ workflowId: OTHER })).get('hook-secret').catch((e: unknown) => e);
    expect(otherWorkflow).toBeInstanceOf(NodeError);
    expect(otherWorkflow).toMatchObject({ code: 'CREDENTIAL_OUT_OF_SCOPE', retryable: false, message: expect.stringContaining(`credential "hook-secret" may not be used by node send: workflow ${OTHER} is not in its scope`) });
    await expect(credentials.forJob(use({ nodeType: 'core.http' })).get('hook-secret')).rejects.toMatchObject({ code: 'CREDENTIAL_OUT_OF_SCOPE', message: expect.stringContaining('node type core.http is not in its scope') });
    expect(refusals).toEqual([expect.objectContaining({ credential: 'hook-secret', workflowId: OTHER, nodeId: 'send' }), expect.objectContaining({ nodeType: 'core.http' })]);
    // a refused resolve registers nothing for the other execution
    expect(secrets.forExecution('e1')).toBeDefined();
  });

  it('validates scopes at create and update, and an update without scopes keeps them', async () => {
    const { credentials } = setup();
    const err = await credentials.create({ type: 'api', name: 'x', data: {}, scopes: { workflows: ['not-a-uuid'], nodeTypes: ['bad type!'], allowHosts: ['http://x/'], other: [] } as never }).catch((e: unknown) => e);
    expect((err as { details: Array<{ path: string }> }).details.map((d) => d.path)).toEqual(['scopes.other', 'scopes.workflows[0]', 'scopes.nodeTypes[0]', 'scopes.allowHosts[0]']);
    const meta = await credentials.create({ type: 'api', name: 'x', data: { k: 'value-1' }, scopes: { allowHosts: ['API.example.com', '*.corp.test'] } });
    expect(meta.scopes).toEqual({ allowHosts: ['api.example.com', '*.corp.test'] });
    expect((await credentials.update(meta.id, { data: { k: 'value-2' } })).scopes).toEqual({ allowHosts: ['api.example.com', '*.corp.test'] });
    expect((await credentials.update(meta.id, { data: { k: 'value-2' }, scopes: {} })).scopes).toEqual({});
  });
});
