import { describe, expect, it } from '@jest/globals';
import notificationsPlugin from '@anchorflow/plugin-notifications';
import { generateMasterKey, Vault } from '@anchorflow/security';
import { SecretRegistry } from '../core/secret-registry.js';
import { MemoryCredentialStore } from './credential.store.js';
import { Credentials } from './credentials.js';

const types = new Map((notificationsPlugin.credentials ?? []).map((d) => [d.type, d]));
const vault = (secrets = new SecretRegistry()) => new Credentials(new MemoryCredentialStore(), new Vault(generateMasterKey()), secrets, undefined, (t) => types.get(t));

describe('Credentials with the credential types plugins declare', () => {
  it('refuses data that does not match a declared type, listing every field, never a value', async () => {
    const credentials = vault();
    const err = await credentials.create({ type: 'smtp', name: 'mail', data: { host: 'smtp.example.test', port: '587', security: 'ssl', password: 'hunter2-secret', from: 'nobody', oops: 1 } }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      status: 400,
      details: [
        { path: 'data.oops', message: expect.stringContaining('unknown field "oops" for a smtp credential') },
        { path: 'data.port', message: 'port must be an integer' },
        { path: 'data.security', message: 'security must be one of tls, starttls, none' },
        { path: 'data.from', message: 'from must be an email address' },
      ],
    });
    expect(JSON.stringify(err)).not.toContain('hunter2-secret');
    expect(await credentials.list()).toEqual([]);
  });

  it('stores matching data, checks a replacement against the stored type, and leaves undeclared types free-form', async () => {
    const credentials = vault();
    const hook = await credentials.create({ type: 'slack-webhook', name: 'ops', data: { url: 'https://hooks.slack.test/services/T/B/x' } });
    await expect(credentials.update(hook.id, { data: { url: 'not a url' } })).rejects.toMatchObject({ status: 400, details: [{ path: 'data.url', message: 'url must be an absolute http or https URL' }] });
    await expect(credentials.update(hook.id, { data: { url: 'https://hooks.slack.test/services/T/B/y' } })).resolves.toMatchObject({ type: 'slack-webhook' });
    await expect(credentials.create({ type: 'my-api', name: 'free', data: { anything: ['goes'] } })).resolves.toMatchObject({ type: 'my-api' });
    expect(await credentials.describe('ops')).toEqual({ type: 'slack-webhook', name: 'ops', scopes: {} });
    expect(await credentials.describe(hook.id)).toEqual({ type: 'slack-webhook', name: 'ops', scopes: {} });
    expect(await credentials.describe('missing')).toBeUndefined();
  });

  it('registers only the secret fields of a declared type for redaction (free-form types: every value)', async () => {
    const secrets = new SecretRegistry();
    const credentials = vault(secrets);
    await credentials.create({ type: 'smtp', name: 'mail', data: { host: 'smtp.example.test', port: 25, security: 'none', user: 'mailer', password: 'pw-very-secret', from: 'alerts@example.test' } });
    await credentials.create({ type: 'my-api', name: 'free', data: { region: 'eu-west-1', token: 'tok-free-form' } });
    const job = { get: (ref: string) => credentials.forJob({ executionId: 'e1', workflowId: 'f0000000-0000-4000-8000-000000000001', nodeId: 'n', nodeType: 'x.y' }).get(ref) };
    await job.get('mail');
    await job.get('free');
    expect(secrets.forExecution('e1')!.redact({ out: 'security none via smtp.example.test as mailer, pw-very-secret, eu-west-1, tok-free-form' })).toEqual({
      out: 'security none via smtp.example.test as mailer, [REDACTED], [REDACTED], [REDACTED]',
    });
  });
});
