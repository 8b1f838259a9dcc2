import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { MemoryPluginState, NodeError, paramsJsonSchema, runNode, TransientNodeError } from '@anchorflow/plugin-sdk';
import { deliveryKey, type DeliveryRecord } from '../../shared/delivery.js';
import { runWithRetries } from '../../spec-support/retrying.js';
import { startSmtpSink, type SmtpSink } from '../../spec-support/smtp-sink.js';
import { emailNode } from './email.node.js';
import { EmailParams } from './email.params.js';
import { closeSmtpTransports } from './smtp-transports.js';

const PASSWORD = 'sm7p-pa55word-never-shown';
let sink: SmtpSink;
let plain: SmtpSink;

const smtp = (port: number, extra: Record<string, unknown> = {}) => ({
  host: '127.0.0.1', port, security: 'starttls', user: 'mailer', password: PASSWORD, from: 'Anchorflow <alerts@anchorflow.test>', rejectUnauthorized: false, ...extra,
});

beforeAll(async () => {
  sink = await startSmtpSink({ auth: { user: 'mailer', password: PASSWORD } });
  plain = await startSmtpSink({ noStartTls: true });
});
afterEach(() => {
  sink.reply(() => undefined);
  closeSmtpTransports();
});
afterAll(async () => {
  await sink.close();
  await plain.close();
});

describe('notify.email against a real SMTP server', () => {
  it('sends over STARTTLS with AUTH: headers, text, HTML, attachments as the recipient parses them', async () => {
    const before = sink.mails.length;
    const r = await runNode(emailNode, {
      credentials: { mail: smtp(sink.port) },
      idempotencyKey: 'exec-1:mail',
      input: { name: 'Ada', order: { id: 42, total: '12.50' }, report: { rows: 3 } },
      params: {
        credential: 'mail',
        to: ['Ops <ops@example.test>', 'second@example.test'],
        cc: 'cc@example.test',
        bcc: ['hidden@example.test'],
        subject: 'Order {{order.id}} for {{name}}',
        text: 'Hello {{name}}, total {{order.total}}',
        html: '<p>Hello <b>{{name}}</b></p>',
        attachments: [{ name: 'report.json', content: '=$.report', contentType: 'application/json' }, { name: 'note.txt', content: 'plain note' }],
      },
    });
    const [mail] = (await sink.waitFor(before + 1)).slice(before);
    const m = mail!.parsed;
    expect(mail!.secure).toBe(true);
    expect(mail!.user).toBe('mailer');
    expect(m.subject).toBe('Order 42 for Ada');
    expect(m.from?.text).toBe('"Anchorflow" <alerts@anchorflow.test>');
    expect((Array.isArray(m.to) ? m.to : [m.to]).flatMap((a) => a!.value.map((v) => v.address))).toEqual(['ops@example.test', 'second@example.test']);
    expect((m.cc as { text: string }).text).toBe('cc@example.test');
    // Bcc is in the envelope only, never in the headers
    expect(m.headers.has('bcc')).toBe(false);
    expect(mail!.envelope.to).toEqual(['ops@example.test', 'second@example.test', 'cc@example.test', 'hidden@example.test']);
    expect(m.text?.trim()).toBe('Hello Ada, total 12.50');
    expect(m.html).toContain('<p>Hello <b>Ada</b></p>');
    expect(m.headers.get('x-anchorflow-idempotency-key')).toBe('exec-1:mail');
    expect(m.attachments.map((a) => ({ name: a.filename, type: a.contentType, content: a.content.toString('utf8') }))).toEqual([
      { name: 'report.json', type: 'application/json', content: '{"rows":3}' },
      { name: 'note.txt', type: 'text/plain', content: 'plain note' },
    ]);
    expect(r.kind === 'output' && r.outputs.main).toEqual({
      channel: 'email', status: 'sent', attempts: 1, messageId: m.messageId, durationMs: expect.any(Number),
      accepted: ['ops@example.test', 'second@example.test', 'cc@example.test', 'hidden@example.test'], rejected: [],
    });
  });

  it('escapes input in HTML bodies ({{x}}) but not in the text body, and inserts {{{x}}} as is', async () => {
    const before = plain.mails.length;
    const evil = '<script>alert("x")</script> & co';
    await runNode(emailNode, {
      credentials: { mail: smtp(plain.port, { security: 'none', user: undefined, password: undefined }) },
      input: { who: evil, trusted: '<i>ok</i>' },
      params: { credential: 'mail', to: 'a@example.test', subject: 'Hi {{who}}', text: 'T: {{who}}', html: '<div>{{who}}</div><div>{{{trusted}}}</div>' },
    });
    const m = (await plain.waitFor(before + 1))[before]!.parsed;
    expect(m.html).toContain('<div>&lt;script&gt;alert(&quot;x&quot;)&lt;&#x2F;script&gt; &amp; co</div><div><i>ok</i></div>');
    expect(m.html).not.toContain('<script>');
    expect(m.text?.trim()).toBe(`T: ${evil}`);
    expect(m.subject).toBe(`Hi ${evil}`);
    expect(plain.mails[before]!.secure).toBe(false);
  });

  it('refuses bad input before sending: invalid address, template syntax with its position, neither text nor html', () => {
    const schema = paramsJsonSchema(EmailParams) as { properties: Record<string, Record<string, unknown>>; required: string[] };
    expect(schema.properties.credential).toMatchObject({ type: 'string', 'x-credential-type': 'smtp' });
    expect(schema.required).toEqual(expect.arrayContaining(['credential', 'to', 'subject']));
    const before = sink.mails.length;
    return Promise.all([
      expect(runNode(emailNode, { credentials: { mail: smtp(sink.port) }, params: { credential: 'mail', to: ['ok@example.test', 'not-an-address'], subject: 's', text: 't' } })).rejects.toThrow(
        /\$\.to to\[1\] "not-an-address" is not a valid email address/,
      ),
      expect(runNode(emailNode, { credentials: { mail: smtp(sink.port) }, params: { credential: 'mail', to: 'a@example.test', subject: 's', html: '<p>{{#items}}{{name}}</p>' } })).rejects.toThrow(
        /html is not a valid template: Unclosed section "items" at 25/,
      ),
      expect(runNode(emailNode, { credentials: { mail: smtp(sink.port) }, params: { credential: 'mail', to: 'a@example.test', subject: 's' } })).rejects.toThrow(/needs text or html/),
    ]).then(() => expect(sink.mails.length).toBe(before));
  });

  it('retries an SMTP 451 and sends exactly one message; a re-run after success returns the record without sending', async () => {
    sink.reply((nth) => (nth === 1 ? { code: 451, message: 'Try again later' } : undefined));
    const before = sink.mails.length;
    const state = new MemoryPluginState();
    const options = { credentials: { mail: smtp(sink.port) }, idempotencyKey: 'exec-2:mail', state, params: { credential: 'mail', to: 'a@example.test', subject: 'retry', text: 'once' } };
    const run = await runWithRetries(emailNode, options);
    expect(run.errors.map((e) => [e.code, e.retryable])).toEqual([['SMTP_TRANSIENT', true]]);
    expect(run.errors[0]!.message).toMatch(/451/);
    expect(run.output).toMatchObject({ channel: 'email', status: 'sent', attempts: 2 });
    await sink.waitFor(before + 1);
    // the engine re-running the node (e.g. after a crash right after the send) must not send again
    const again = await runNode(emailNode, { ...options, attempt: 3 });
    expect(again.kind === 'output' && again.outputs.main).toEqual({ ...run.output, replayed: true });
    expect(sink.mails.length).toBe(before + 1);
    expect(sink.refused).toBe(1);
  });

  it('reports status "unknown" instead of sending twice when an attempt stopped between send and record', async () => {
    const state = new MemoryPluginState();
    await state.set(deliveryKey('exec-3:mail'), { channel: 'email', status: 'sending', attempts: 1, startedAt: 1_700_000_000_000 } satisfies DeliveryRecord);
    const before = sink.mails.length;
    const r = await runNode(emailNode, { credentials: { mail: smtp(sink.port) }, idempotencyKey: 'exec-3:mail', state, params: { credential: 'mail', to: 'a@example.test', subject: 's', text: 't' } });
    expect(r.kind === 'output' && r.outputs.main).toEqual({ channel: 'email', status: 'unknown', attempts: 1, durationMs: 0 });
    expect(r.logs).toEqual([expect.objectContaining({ level: 'warn', msg: expect.stringMatching(/not sending again/) })]);
    expect(sink.mails.length).toBe(before);
  });

  it('does not retry a wrong password (535) and never puts the password in the error', async () => {
    const run = await runWithRetries(emailNode, { credentials: { mail: smtp(sink.port, { password: 'wrong-password-xyz' }) }, params: { credential: 'mail', to: 'a@example.test', subject: 's', text: 't' } });
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toBeInstanceOf(NodeError);
    expect(run.errors[0]).not.toBeInstanceOf(TransientNodeError);
    expect(run.errors[0]!.code).toBe('SMTP_AUTH');
    expect(JSON.stringify({ m: run.errors[0]!.message, d: run.errors[0]!.details })).not.toMatch(/wrong-password-xyz|sm7p-pa55word/);
    expect(await run.state.get(deliveryKey('test-execution:node'))).toMatchObject({ status: 'failed', lastError: 'SMTP_AUTH' });
  });

  it('treats an unreachable server as transient and a credential of the wrong shape as a clear error', async () => {
    const run = await runWithRetries(emailNode, { credentials: { mail: smtp(1, { security: 'none' }) }, params: { credential: 'mail', to: 'a@example.test', subject: 's', text: 't' } }, 2);
    expect(run.errors.map((e) => [e.code, e.retryable])).toEqual([['SMTP_NETWORK', true], ['SMTP_NETWORK', true]]);
    await expect(runNode(emailNode, { credentials: { mail: { url: 'https://hooks.slack.test/T000/secret' } }, params: { credential: 'mail', to: 'a@example.test', subject: 's', text: 't' } })).rejects.toMatchObject({
      code: 'CREDENTIAL_INVALID',
      message: expect.stringMatching(/^credential "mail" \(param credential\) is not a valid smtp credential: unknown field "url".*host is required/),
    });
    await expect(runNode(emailNode, { params: { credential: 'missing', to: 'a@example.test', subject: 's', text: 't' } })).rejects.toMatchObject({ code: 'CREDENTIAL_NOT_FOUND' });
  });
});
