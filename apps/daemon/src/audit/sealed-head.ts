import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuditFields, AuditHead } from '@anchorflow/security';
import type { AuditLogStore } from './audit-log.port.js';

/**
 * The audit log's head, authenticated with a key kept outside the database and written outside it
 * (issue 17): whoever can rewrite or truncate the audit_entry table (a database superuser, the daemon's
 * own role) cannot also move this file's head or forge its MAC without the key, so `anchorflow audit
 * verify` notices a cut tail or a rewritten chain.
 *
 * - key: env ANCHORFLOW_AUDIT_KEY (32 bytes, hex or base64), else `<dataDir>/audit.key` (generated, 0600)
 * - head: `<dataDir>/audit-head.json` = { seq, hash, at, mac }, mac = HMAC-SHA256(key, "<seq>:<hash>"),
 *   rewritten (atomically) after committed appends of this daemon: one write at a time, off the event
 *   loop, always with the newest committed head (appends that commit while a write is under way are
 *   sealed together by the next one)
 */
export const AUDIT_KEY_ENV = 'ANCHORFLOW_AUDIT_KEY';
export const AUDIT_KEY_FILE = 'audit.key';
export const AUDIT_HEAD_FILE = 'audit-head.json';

export interface SealedHead extends AuditHead {
  /** ISO 8601 time of sealing */
  at: string;
  /** HMAC-SHA256(key, "<seq>:<hash>") in hex */
  mac: string;
}

function decodeKey(text: string, where: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (key.length !== 32) throw new Error(`${where} must hold 32 bytes (64 hex characters or base64), got ${key.length} bytes`);
  return key;
}

/** The audit key: env, else the data dir's key file; `create` generates the file when missing. */
export function loadAuditKey(env: Readonly<Record<string, string | undefined>>, dataDir: string, options: { create: boolean }): Buffer | undefined {
  const fromEnv = env[AUDIT_KEY_ENV];
  if (fromEnv && fromEnv.trim() !== '') return decodeKey(fromEnv, AUDIT_KEY_ENV);
  const file = join(dataDir, AUDIT_KEY_FILE);
  try {
    return decodeKey(readFileSync(file, 'utf8'), file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !options.create) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, key.toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  return key;
}

export function macOf(key: Buffer, head: AuditHead): string {
  return createHmac('sha256', key).update(`${head.seq}:${head.hash}`).digest('hex');
}

export function sealHead(key: Buffer, head: AuditHead, at = new Date()): SealedHead {
  return { seq: head.seq, hash: head.hash, at: at.toISOString(), mac: macOf(key, head) };
}

/** The sealed head file, checked against the key; undefined when there is none. Throws when it is forged or broken. */
export function readSealedHead(dataDir: string, key: Buffer): SealedHead | undefined {
  const file = join(dataDir, AUDIT_HEAD_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const h = JSON.parse(text) as Partial<SealedHead>;
  if (!Number.isSafeInteger(h.seq) || typeof h.hash !== 'string' || typeof h.mac !== 'string') throw new Error(`${file} is not a sealed audit head`);
  const expected = Buffer.from(macOf(key, { seq: h.seq!, hash: h.hash }), 'hex');
  const given = Buffer.from(h.mac, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new Error(`${file}: its MAC does not match (altered, or sealed with another audit key)`);
  return h as SealedHead;
}

/**
 * Writes the sealed head atomically (temp file + rename), so a crash never leaves half a file; without
 * blocking the event loop (the file system's work runs on libuv's pool).
 */
export async function writeSealedHead(dataDir: string, sealed: SealedHead): Promise<void> {
  const file = join(dataDir, AUDIT_HEAD_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(sealed) + '\n', { mode: 0o600 });
  await rename(tmp, file);
}

/**
 * An AuditLogStore that seals the head after committed appends. Sealing is best effort after the commit
 * (a failure is reported through `onError`, the append stands); a later append seals again. The file is
 * written asynchronously, one write at a time, with the newest head, and at most once per
 * `minIntervalMs` (100 ms): a synchronous write + rename after every audit batch was the largest single
 * item of a webhook call's CPU profile (~5 %), and one write per batch still cost ~5 % of the main thread
 * at ~120 batches a second (issue 18). The head on disk may lag the database by at most that interval plus
 * one write, as it always could after a crash between commit and seal; `sealed()` (shutdown) writes
 * without waiting. `anchorflow audit verify` accepts a head behind the chain, never one ahead of it.
 */
export class SealingAuditLogStore implements AuditLogStore {
  /** newest committed head not yet written */
  private pending: AuditHead | undefined;
  private writing: Promise<void> | undefined;
  private lastWrite = -Infinity;
  /** set by sealed(): write what is pending now */
  private hurry = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly inner: AuditLogStore,
    private readonly key: Buffer,
    private readonly dataDir: string,
    private readonly onError: (err: unknown) => void,
    private readonly minIntervalMs = 100,
  ) {}

  async append(fields: readonly AuditFields[]): Promise<AuditHead> {
    const head = await this.inner.append(fields);
    if (!this.pending || head.seq > this.pending.seq) this.pending = head;
    this.writing ??= this.sealPending();
    return head;
  }

  /** resolves once every head committed so far is on disk (or its write failed and was reported) */
  async sealed(): Promise<void> {
    this.hurry = true;
    this.wake?.();
    try {
      while (this.writing) await this.writing;
    } finally {
      this.hurry = false;
    }
  }

  private async sealPending(): Promise<void> {
    try {
      while (this.pending) {
        const wait = this.lastWrite + this.minIntervalMs - performance.now();
        if (wait > 0 && !this.hurry) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, wait);
            this.wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          this.wake = undefined;
        }
        this.lastWrite = performance.now();
        const head = this.pending;
        this.pending = undefined;
        try {
          await writeSealedHead(this.dataDir, sealHead(this.key, head));
        } catch (err) {
          this.onError(err);
        }
      }
    } finally {
      this.writing = undefined;
    }
  }

  head(): Promise<AuditHead | null> {
    return this.inner.head();
  }

  page(afterSeq: number, limit: number) {
    return this.inner.page(afterSeq, limit);
  }
}
