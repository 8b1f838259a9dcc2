import { describe, expect, it } from '@jest/globals';
import { credentialDataJsonSchema, CredentialRef, credentialParamsOf, staticCredentialRefs, validateCredentialData, type CredentialTypeDefinition } from './credentials.js';
import { paramsJsonSchema, validateParams } from './params.js';
import { definePlugin } from './plugin.js';
import { IsOptional } from './validation.js';

const smtp: CredentialTypeDefinition = {
  type: 'smtp',
  title: 'SMTP',
  secretFields: ['password'],
  fields: {
    host: { type: 'string' },
    port: { type: 'integer', minimum: 1, maximum: 65535 },
    security: { type: 'string', enum: ['tls', 'starttls', 'none'] },
    password: { type: 'string', required: false, secret: true },
    from: { type: 'string', format: 'email' },
  },
};

class Params {
  @CredentialRef('smtp')
  credential!: string;

  @IsOptional()
  @CredentialRef('hmac-secret')
  signer?: string;
}

describe('credential types', () => {
  it('validates data field by field, naming fields and never quoting values', () => {
    expect(validateCredentialData(smtp, { host: 'h', port: 587, security: 'starttls', from: 'Ops <ops@x.io>' })).toEqual([]);
    const problems = validateCredentialData(smtp, { host: 'h', port: 70000, security: 'ssl', password: 12345678, from: 'nobody', extra: 'super-secret-value' });
    expect(problems).toEqual([
      { path: 'data.extra', message: 'unknown field "extra" for a smtp credential (fields: host, port, security, password, from)' },
      { path: 'data.port', message: 'port must be between 1 and 65535' },
      { path: 'data.security', message: 'security must be one of tls, starttls, none' },
      { path: 'data.password', message: 'password must be a string' },
      { path: 'data.from', message: 'from must be an email address' },
    ]);
    expect(JSON.stringify(problems)).not.toContain('super-secret-value');
    expect(validateCredentialData(smtp, {})).toEqual(['host', 'port', 'security', 'from'].map((f) => ({ path: `data.${f}`, message: `${f} is required for a smtp credential` })));
    expect(validateCredentialData({ type: 'free', title: 'Free', secretFields: [] }, { anything: 1 })).toEqual([]);
  });

  it('describes the data as JSON schema with secrets write-only', () => {
    expect(credentialDataJsonSchema(smtp)).toMatchObject({ required: ['host', 'port', 'security', 'from'], additionalProperties: false, properties: { password: { type: 'string', writeOnly: true }, port: { minimum: 1 } } });
  });

  it('@CredentialRef puts the expected type in the params schema and validates a non-empty name', () => {
    const schema = paramsJsonSchema(Params);
    expect(credentialParamsOf(schema)).toEqual({ credential: 'smtp', signer: 'hmac-secret' });
    expect(staticCredentialRefs(schema, { credential: 'mail', signer: '=$.signer' })).toEqual([{ param: 'credential', ref: 'mail', expectedType: 'smtp' }]);
    expect(validateParams(Params, { credential: '' }).problems).toEqual([{ path: '$.credential', message: 'credential must name a smtp credential (1-200 characters)' }]);
    expect(validateParams(Params, { credential: 'mail' }).problems).toEqual([]);
  });

  it('definePlugin refuses a credential type declared twice or a secret field it does not define', () => {
    expect(() => definePlugin({ name: 'p', version: '1', nodes: [], credentials: [smtp, smtp] })).toThrow(/credential type smtp is defined twice/);
    expect(() => definePlugin({ name: 'p', version: '1', nodes: [], credentials: [{ ...smtp, secretFields: ['token'] }] })).toThrow(/secret field token/);
  });
});
