/**
 * A real SMTP server (smtp-server) on 127.0.0.1 that parses every message with mailparser and records
 * it with its envelope, the authenticated user and whether the session was encrypted. `reply` decides
 * per message (nth from 1) whether to accept it or answer with an SMTP error (e.g. 451 to exercise a
 * retry). `waitFor(n)` resolves once n messages arrived — no sleeps.
 */
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  parsed: ParsedMail;
  raw: string;
  envelope: { from: string | false; to: string[] };
  user?: string;
  /** TLS from the start or after STARTTLS */
  secure: boolean;
}

export interface SmtpSinkOptions {
  /** require AUTH with these (PLAIN/LOGIN) */
  auth?: { user: string; password: string };
  /** implicit TLS (port 465 style) instead of plain + STARTTLS */
  secure?: boolean;
  /** no STARTTLS offered */
  noStartTls?: boolean;
}

export interface SmtpSink {
  readonly port: number;
  readonly mails: readonly ReceivedMail[];
  /** messages whose DATA was answered with an error */
  readonly refused: number;
  /** per message: undefined accepts; a {code, message} answers with that SMTP error */
  reply(fn: (nth: number) => { code: number; message: string } | undefined): void;
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const mails: ReceivedMail[] = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  let decide: (nth: number) => { code: number; message: string } | undefined = () => undefined;
  let seen = 0;
  let refused = 0;
  const server = new SMTPServer({
    secure: options.secure ?? false,
    authOptional: !options.auth,
    allowInsecureAuth: false,
    ...(options.noStartTls ? { hideSTARTTLS: true } : {}),
    disabledCommands: options.auth ? [] : ['AUTH'],
    logger: false,
    onAuth(auth, _session, callback) {
      if (options.auth && auth.username === options.auth.user && auth.password === options.auth.password) callback(null, { user: auth.username });
      else callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const verdict = decide(++seen);
        if (verdict) {
          refused++;
          callback(Object.assign(new Error(verdict.message), { responseCode: verdict.code }));
          return;
        }
        const raw = Buffer.concat(chunks).toString('utf8');
        simpleParser(raw).then(
          (parsed) => {
            mails.push({
              parsed,
              raw,
              envelope: { from: session.envelope.mailFrom ? session.envelope.mailFrom.address : false, to: session.envelope.rcptTo.map((r) => r.address) },
              ...(typeof session.user === 'string' ? { user: session.user } : {}),
              secure: !!session.secure,
            });
            for (const w of waiters.splice(0)) {
              if (mails.length >= w.count) w.resolve();
              else waiters.push(w);
            }
            callback(null);
          },
          (err: Error) => callback(err),
        );
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  server.on('error', () => {});
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    mails,
    get refused() {
      return refused;
    },
    reply(fn) {
      decide = fn;
      seen = 0;
    },
    async waitFor(count, timeoutMs = 10_000) {
      if (mails.length < count) {
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(() => reject(new Error(`SMTP sink: ${mails.length} of ${count} messages within ${timeoutMs} ms`)), timeoutMs);
          waiters.push({ count, resolve: () => (clearTimeout(t), resolve()) });
        });
      }
      return mails.slice(0, count);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
