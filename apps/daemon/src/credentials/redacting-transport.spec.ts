import { describe, expect, it } from '@jest/globals';
import type { NodeJob, NodeJobEnvironment, NodeTransport } from '@anchorflow/engine';
import { NodeError, TransientNodeError } from '@anchorflow/plugin-sdk';
import { SecretRegistry } from '../core/secret-registry.js';
import { redactingTransport } from './redacting-transport.js';

const job = { executionId: 'e1', workflowId: 'w1', nodeId: 'n', nodeType: 'test.node' } as NodeJob;
const env = {} as NodeJobEnvironment;

describe('redactingTransport', () => {
  it('redacts the secrets its execution resolved from outputs, with their base64 and hex forms, and only those', async () => {
    const secrets = new SecretRegistry();
    secrets.addExecutionSecretsFrom('e1', { password: 'hunter2-long' });
    const b64 = Buffer.from('user:hunter2-long').toString('base64');
    const hex = Buffer.from('hunter2-long').toString('hex');
    const inner: NodeTransport = { run: async () => ({ kind: 'output', outputs: { main: { body: 'x hunter2-long y', basic: `Basic ${b64}`, hex, token: 'eyJ.not.secret', accessToken: 'kept' } } }) };
    const out = (await redactingTransport(inner, secrets).run(job, env)) as unknown as { outputs: { main: Record<string, string> } };
    expect(out.outputs.main).toMatchObject({ body: 'x [REDACTED] y', hex: '[REDACTED]', token: 'eyJ.not.secret', accessToken: 'kept' });
    expect(Buffer.from(out.outputs.main.basic!.slice(6), 'base64').toString()).not.toContain('hunter2-long');
  });

  it('does not redact in an execution that resolved no credential: a guess there is not answered with [REDACTED]', async () => {
    const secrets = new SecretRegistry();
    secrets.addExecutionSecretsFrom('e1', { password: 'hunter2-long' });
    const inner: NodeTransport = { run: async () => ({ kind: 'output', outputs: { main: { guess: 'hunter2-long' } } }) };
    expect(await redactingTransport(inner, secrets).run({ ...job, executionId: 'e2' }, env)).toEqual({ kind: 'output', outputs: { main: { guess: 'hunter2-long' } } });
  });

  it('redacts errors and keeps their class and retryability', async () => {
    const secrets = new SecretRegistry();
    secrets.addExecutionSecretsFrom('e1', 'hunter2-long');
    const fail = (err: Error): NodeTransport => ({ run: async () => { throw err; } });
    const permanent = await redactingTransport(fail(new NodeError('bad hunter2-long', 'X', { body: 'hunter2-long' })), secrets).run(job, env).catch((e: unknown) => e);
    expect(permanent).toBeInstanceOf(NodeError);
    expect(permanent).toMatchObject({ message: 'bad [REDACTED]', code: 'X', retryable: false, details: { body: '[REDACTED]' } });
    const transient = await redactingTransport(fail(new TransientNodeError('t hunter2-long', 'T')), secrets).run(job, env).catch((e: unknown) => e);
    expect(transient).toBeInstanceOf(TransientNodeError);
    expect(transient).toMatchObject({ message: 't [REDACTED]', retryable: true });
  });

  it('hands the job the vault accessor for that job (scopes, per-execution redaction), and passes suspensions through', async () => {
    const secrets = new SecretRegistry();
    const asked: unknown[] = [];
    const credentials = { forJob: (use: unknown) => (asked.push(use), { get: async () => ({ k: 'v' }) as never }) };
    const inner: NodeTransport = { run: async (_job, e) => ({ kind: 'output', outputs: { main: await e.credentials.get('c') } }) };
    expect(await redactingTransport(inner, secrets, credentials).run(job, env)).toEqual({ kind: 'output', outputs: { main: { k: 'v' } } });
    expect(asked).toEqual([{ executionId: 'e1', workflowId: 'w1', nodeId: 'n', nodeType: 'test.node' }]);
    secrets.addExecutionSecretsFrom('e1', 'something');
    expect(await redactingTransport({ run: async () => ({ kind: 'suspend', token: 't' }) }, secrets).run(job, env)).toEqual({ kind: 'suspend', token: 't' });
  });
});
