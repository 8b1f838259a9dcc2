import { createHash } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';

export interface SmtpCredentialData {
  host: string;
  port: number;
  security: 'tls' | 'starttls' | 'none';
  user?: string;
  password?: string;
  from: string;
  rejectUnauthorized?: boolean;
}

/** A pooled transport is closed after this long without a message. */
const IDLE_CLOSE_MS = 30_000;

interface Entry {
  transport: Transporter;
  /** sends in flight: the idle timer only runs at zero */
  inUse: number;
  timer?: NodeJS.Timeout;
}

/**
 * One pooled nodemailer transport per distinct SMTP credential (keyed by a hash of its data, so a
 * rotated password gets a fresh pool), closed when idle. Pooling keeps the connection (and its TLS
 * and AUTH handshakes) across messages: the difference between tens and hundreds of emails per second.
 */
const pools = new Map<string, Entry>();

function keyOf(c: SmtpCredentialData): string {
  return createHash('sha256').update(JSON.stringify([c.host, c.port, c.security, c.user ?? '', c.password ?? '', c.rejectUnauthorized ?? true])).digest('hex');
}

export function smtpTransport(c: SmtpCredentialData): { transport: Transporter; release(): void; discard(): void } {
  const key = keyOf(c);
  let entry = pools.get(key);
  if (!entry) {
    const transport = nodemailer.createTransport({
      pool: true,
      maxConnections: 5,
      host: c.host,
      port: c.port,
      secure: c.security === 'tls',
      requireTLS: c.security === 'starttls',
      ignoreTLS: c.security === 'none',
      ...(c.user ? { auth: { user: c.user, pass: c.password ?? '' } } : {}),
      tls: { rejectUnauthorized: c.rejectUnauthorized ?? true },
      connectionTimeout: 15_000,
      greetingTimeout: 15_000,
      socketTimeout: 60_000,
      // nodemailer's own logger would print envelopes and AUTH exchanges
      logger: false,
      debug: false,
    });
    entry = { transport, inUse: 0 };
    pools.set(key, entry);
  }
  const e = entry;
  e.inUse++;
  if (e.timer) clearTimeout(e.timer);
  e.timer = undefined;
  let released = false;
  return {
    transport: e.transport,
    release() {
      if (released) return;
      released = true;
      if (--e.inUse > 0 || pools.get(key) !== e) return;
      if (e.timer) clearTimeout(e.timer);
      e.timer = setTimeout(() => {
        if (pools.get(key) === e) pools.delete(key);
        e.transport.close();
      }, IDLE_CLOSE_MS);
      e.timer.unref();
    },
    /** after an authentication or TLS failure: the next message builds a new pool */
    discard() {
      released = true;
      e.inUse--;
      if (pools.get(key) === e) pools.delete(key);
      if (e.timer) clearTimeout(e.timer);
      e.transport.close();
    },
  };
}

/** Closes every pooled SMTP connection (tests, shutdown). */
export function closeSmtpTransports(): void {
  for (const [key, e] of pools) {
    pools.delete(key);
    if (e.timer) clearTimeout(e.timer);
    e.transport.close();
  }
}
