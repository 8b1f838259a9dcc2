import { describe, expect, it } from '@jest/globals';
import type { NodeJob, NodeJobEnvironment, NodeTransport } from '@anchorflow/engine';
import { NodeError, TransientNodeError } from '@anchorflow/plugin-sdk';
import { SecretRegistry } from '../core/secret-registry.js';
import { redactingTransport } from './redacting-transport.js';

const job = {} as NodeJob;
const env = {} as NodeJobEnvironment;

describe('redactingTransport', () => {
  it('redacts registered secrets from outputs, and only those', async () => {
    const secrets = new SecretRegistry();
    secrets.addSecretsFrom({ password: 'hunter2-long' });
    const inner: NodeTransport = { run: async () => ({ kind: 'output', outputs: { main: { body: 'x hunter2-long y', token: 'eyJ.not.secret', accessToken: 'kept' } } }) };
    const out = await redactingTransport(inner, secrets).run(job, env);
    expect(out).toEqual({ kind: 'output', outputs: { main: { body: 'x [REDACTED] y', token: 'eyJ.not.secret', accessToken: 'kept' } } });
  });

  it('redacts errors and keeps their class and retryability', async () => {
    const secrets = new SecretRegistry();
    secrets.addSecret('hunter2-long');
    const fail = (err: Error): NodeTransport => ({ run: async () => { throw err; } });
    const permanent = await redactingTransport(fail(new NodeError('bad hunter2-long', 'X', { body: 'hunter2-long' })), secrets).run(job, env).catch((e: unknown) => e);
    expect(permanent).toBeInstanceOf(NodeError);
    expect(permanent).toMatchObject({ message: 'bad [REDACTED]', code: 'X', retryable: false, details: { body: '[REDACTED]' } });
    const transient = await redactingTransport(fail(new TransientNodeError('t hunter2-long', 'T')), secrets).run(job, env).catch((e: unknown) => e);
    expect(transient).toBeInstanceOf(TransientNodeError);
    expect(transient).toMatchObject({ message: 't [REDACTED]', retryable: true });
  });

  it('passes outputs through untouched while no secret is known, and suspensions always', async () => {
    const secrets = new SecretRegistry();
    const outputs = { main: { a: 1 } };
    expect((await redactingTransport({ run: async () => ({ kind: 'output', outputs }) }, secrets).run(job, env)) as { outputs: unknown }).toEqual({ kind: 'output', outputs });
    secrets.addSecret('something');
    expect(await redactingTransport({ run: async () => ({ kind: 'suspend', token: 't' }) }, secrets).run(job, env)).toEqual({ kind: 'suspend', token: 't' });
  });
});
