import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { redactingLogOptions } from './log-redaction.js';
import { SecretRegistry } from '../core/secret-registry.js';

function logger() {
  const lines: string[] = [];
  const secrets = new SecretRegistry();
  const log = pino({ level: 'info', ...redactingLogOptions(secrets) }, { write: (line: string) => void lines.push(line) });
  return { lines, secrets, log };
}

describe('redactingLogOptions', () => {
  it('redacts registered secrets in messages, format arguments, objects and errors; lines stay JSON', () => {
    const { lines, secrets, log } = logger();
    secrets.addSecretsFrom({ password: 'pa55-word-9', port: '1000' });
    log.info({ cfg: { url: 'smtp://u:pa55-word-9@host' }, time2: 1000, note: 'x pa55-word-9' }, 'connecting with %s', 'pa55-word-9');
    log.error(new Error('auth failed for pa55-word-9'));
    log.warn('message pa55-word-9 only');
    const text = lines.join('');
    expect(text).not.toContain('pa55-word-9');
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, any>);
    expect(parsed[0]!.msg).toBe('connecting with [REDACTED]');
    expect(parsed[0]!.note).toBe('x [REDACTED]');
    // numbers are left alone even when a registered secret looks like one
    expect(parsed[0]!.time2).toBe(1000);
    expect(parsed[1]!.msg).toBe('auth failed for [REDACTED]');
    expect(parsed[1]!.err.message).toBe('auth failed for [REDACTED]');
    expect(parsed[1]!.err.stack).not.toContain('pa55');
  });

  it('redacts sensitive keys and secret shapes nobody registered', () => {
    const { lines, log } = logger();
    const key = `afk_0123456789abcdef_${'A'.repeat(43)}`;
    log.info({ headers: { authorization: `Bearer ${key}` }, apiKey: key, msgs: [`got ${key}`] }, 'request');
    const line = JSON.parse(lines[0]!) as Record<string, any>;
    expect(line.headers.authorization).toBe('[REDACTED]');
    expect(line.apiKey).toBe('[REDACTED]');
    expect(line.msgs[0]).toBe('got afk_0123456789abcdef_[REDACTED]');
  });

  it('leaves class instances (requests, responses) to pino\'s serializers', () => {
    const { lines, log } = logger();
    class Res { statusCode = 200; }
    const res = new Res();
    const logged = pino({ serializers: { res: (r: Res) => ({ statusCode: r.statusCode }) }, ...redactingLogOptions(new SecretRegistry()) }, { write: (l: string) => void lines.push(l) });
    logged.info({ res }, 'done');
    log.info({ n: 1 }, 'x');
    expect(JSON.parse(lines[0]!).res).toEqual({ statusCode: 200 });
  });
});
