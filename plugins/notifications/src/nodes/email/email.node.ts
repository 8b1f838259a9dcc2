import { defineNode, NodeError, TransientNodeError } from '@anchorflow/plugin-sdk';
import { smtpCredential } from '../../credentials.js';
import { loadCredential } from '../../shared/credential-data.js';
import { deliver } from '../../shared/delivery.js';
import { renderTemplate } from '../../shared/template.js';
import { EmailParams, type EmailAttachment } from './email.params.js';
import { smtpTransport, type SmtpCredentialData } from './smtp-transports.js';

const addresses = (v: string | string[] | undefined): string[] | undefined =>
  v === undefined ? undefined : (typeof v === 'string' ? v.split(',') : v).map((s) => s.trim()).filter(Boolean);

const TRANSIENT_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EPROTOCOL']);

/**
 * nodemailer failure → NodeError: SMTP 4xx replies and connection trouble are transient; 5xx replies,
 * authentication and TLS failures are not (retrying cannot fix a wrong password or a refused address).
 */
function classify(err: unknown): NodeError {
  const e = err as { code?: unknown; responseCode?: unknown; response?: unknown; command?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : 'UNEXPECTED';
  const responseCode = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const reply = typeof e.response === 'string' ? e.response.slice(0, 300) : undefined;
  const details = { code, ...(responseCode ? { responseCode } : {}), ...(reply ? { response: reply } : {}), ...(typeof e.command === 'string' ? { command: e.command.split(' ')[0] } : {}) };
  const message = `SMTP ${code === 'EAUTH' ? 'authentication failed' : 'send failed'}: ${reply ?? (typeof e.message === 'string' ? e.message.slice(0, 300) : code)}`;
  if (responseCode !== undefined && responseCode >= 400 && responseCode < 500) return new TransientNodeError(message, 'SMTP_TRANSIENT', details);
  if (responseCode !== undefined && responseCode >= 500) return new NodeError(message, code === 'EAUTH' ? 'SMTP_AUTH' : 'SMTP_REFUSED', details);
  if (code === 'EAUTH' || code === 'ETLS' || code === 'ENOAUTH') return new NodeError(message, code === 'ETLS' ? 'SMTP_TLS' : 'SMTP_AUTH', details);
  if (TRANSIENT_CODES.has(code)) return new TransientNodeError(message, 'SMTP_NETWORK', details);
  return new TransientNodeError(message, 'SMTP_ERROR', details);
}

function toNodemailerAttachment(a: EmailAttachment) {
  const content = typeof a.content === 'string' ? a.content : JSON.stringify(a.content ?? null);
  return { filename: a.name, content, ...(a.encoding === 'base64' ? { encoding: 'base64' } : {}), ...(a.contentType ? { contentType: a.contentType } : {}) };
}

export const emailNode = defineNode<EmailParams>({
  type: 'notify.email',
  version: 1,
  title: 'Send email',
  description: 'Sends an email through an SMTP credential; text/html/subject are Mustache templates rendered from the input. Sent at most once per node run.',
  category: 'notification',
  inputs: ['main'],
  outputs: ['main'],
  params: EmailParams,
  retry: { maxAttempts: 5, backoffMs: 1000, factor: 2, maxBackoffMs: 60_000 },
  timeoutMs: 120_000,
  async execute(ctx, input) {
    const p = ctx.params;
    if (p.text === undefined && p.html === undefined) throw new NodeError('notify.email needs text or html (or both)', 'INVALID_PARAMS', { params: ['text', 'html'] });
    // everything that can be wrong with the input fails before anything is sent
    const subject = renderTemplate('subject', p.subject, input, 'none').replace(/[\r\n]+/g, ' ');
    const text = p.text !== undefined ? renderTemplate('text', p.text, input, 'none') : undefined;
    const html = p.html !== undefined ? renderTemplate('html', p.html, input, 'html') : undefined;
    const smtp = await loadCredential<SmtpCredentialData>(ctx, 'credential', p.credential, smtpCredential);
    const message = {
      from: smtp.from,
      to: addresses(p.to),
      ...(p.cc ? { cc: addresses(p.cc) } : {}),
      ...(p.bcc ? { bcc: addresses(p.bcc) } : {}),
      subject,
      ...(text !== undefined ? { text } : {}),
      ...(html !== undefined ? { html } : {}),
      ...(p.attachments?.length ? { attachments: p.attachments.map(toNodemailerAttachment) } : {}),
      // lets a receiving system (or a human) correlate duplicates should the outcome ever be unknown
      headers: { 'X-Anchorflow-Idempotency-Key': ctx.idempotencyKey },
    };
    return {
      main: await deliver(ctx, {
        channel: 'email',
        refuseUnknown: true,
        async send() {
          const pool = smtpTransport(smtp);
          try {
            const info = (await pool.transport.sendMail(message)) as { messageId: string; accepted: unknown[]; rejected: unknown[] };
            pool.release();
            const list = (l: unknown[]) => l.map((a) => (typeof a === 'string' ? a : ((a as { address?: string }).address ?? String(a))));
            return { messageId: info.messageId, extra: { accepted: list(info.accepted ?? []), rejected: list(info.rejected ?? []) } };
          } catch (err) {
            const classified = classify(err);
            if (classified.code === 'SMTP_AUTH' || classified.code === 'SMTP_TLS' || classified.code === 'SMTP_NETWORK') pool.discard();
            else pool.release();
            throw classified;
          }
        },
      }),
    };
  },
});
