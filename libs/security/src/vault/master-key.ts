import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SecurityError } from '../errors/security-error.js';
import { MASTER_KEY_BYTES, masterKeyId } from './vault.js';

export interface LoadMasterKeyOptions {
  /** Value of `ANCHORFLOW_MASTER_KEY`; wins when set (blank counts as unset). */
  envValue?: string;
  /** Key file path, e.g. `<dataDir>/master.key`; read if present, generated if not. */
  keyFile: string;
}

export interface LoadedMasterKey {
  key: Buffer;
  kid: string;
  source: 'env' | 'file' | 'generated';
  /** True when this call created the key file: the caller must warn loudly (back it up, or lose every credential). */
  generated: boolean;
  keyFile?: string;
  /** Non-fatal problems worth logging, e.g. a key file readable by group or others. Never contain key material. */
  warnings: string[];
}

const HEX_KEY = /^[0-9a-fA-F]{64}$/;
const BASE64_KEY = /^[A-Za-z0-9+/]{43}=?$|^[A-Za-z0-9_-]{43}$/;

export function generateMasterKey(): Buffer {
  return randomBytes(MASTER_KEY_BYTES);
}

/** Encoding written to generated key files and printed by the rotation command. */
export function encodeMasterKey(key: Uint8Array): string {
  return Buffer.from(key).toString('base64');
}

/**
 * Accepts 64 hex chars or base64/base64url of exactly 32 bytes, surrounding whitespace ignored. Hex is
 * tried first because 64 hex chars are also valid (48-byte) base64. The error never echoes the value.
 */
export function parseMasterKey(value: string): Buffer {
  const text = String(value).trim();
  let key: Buffer | undefined;
  if (HEX_KEY.test(text)) key = Buffer.from(text, 'hex');
  else if (BASE64_KEY.test(text)) key = Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64');
  if (!key || key.byteLength !== MASTER_KEY_BYTES) {
    throw new SecurityError(
      'MASTER_KEY_INVALID',
      `master key must be ${MASTER_KEY_BYTES} bytes as 64 hex chars or base64 (got ${text.length} chars); generate one with \`openssl rand -base64 32\``,
    );
  }
  return key;
}

/**
 * Env wins; else the key file; else (first start, embedded mode) a new key is written to the key file
 * with mode 0600 in a parent created 0700. Creation is atomic and exclusive (temp file + link), so two
 * daemons starting at once agree on one key and a crash never leaves a half-written key behind.
 */
export async function loadOrCreateMasterKey(options: LoadMasterKeyOptions): Promise<LoadedMasterKey> {
  if (options.envValue !== undefined && options.envValue.trim() !== '') {
    const key = parseMasterKey(options.envValue);
    return { key, kid: masterKeyId(key), source: 'env', generated: false, warnings: [] };
  }
  const { keyFile } = options;
  const existing = await readKeyFile(keyFile);
  if (existing) return existing;

  const key = generateMasterKey();
  let created: boolean;
  try {
    created = await createSecretFileExclusive(keyFile, `${encodeMasterKey(key)}\n`);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new SecurityError('MASTER_KEY_INVALID', `cannot create master key file ${keyFile}: ${code}`, { keyFile }, { cause: err });
  }
  if (!created) {
    // Lost a creation race to another process: its key is the key.
    const winner = await readKeyFile(keyFile);
    if (winner) return winner;
    throw new SecurityError('MASTER_KEY_INVALID', `master key file ${keyFile} vanished while being created`);
  }
  return { key, kid: masterKeyId(key), source: 'generated', generated: true, keyFile, warnings: [] };
}

async function readKeyFile(keyFile: string): Promise<LoadedMasterKey | undefined> {
  let raw: Buffer;
  try {
    raw = await readFile(keyFile);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SecurityError('MASTER_KEY_INVALID', `cannot read master key file ${keyFile}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { keyFile }, { cause: err });
  }
  let key: Buffer;
  try {
    // Exactly 32 bytes can only be a raw key (`head -c 32 /dev/urandom`): text forms are 43+ chars.
    key = raw.byteLength === MASTER_KEY_BYTES ? Buffer.from(raw) : parseMasterKey(raw.toString('utf8'));
  } catch (err) {
    throw new SecurityError('MASTER_KEY_INVALID', `master key file ${keyFile}: ${(err as Error).message}`, { keyFile });
  }
  const warnings: string[] = [];
  if (process.platform !== 'win32') {
    const mode = (await stat(keyFile)).mode & 0o777;
    if (mode & 0o077) {
      warnings.push(`master key file ${keyFile} is accessible by group or others (mode ${mode.toString(8).padStart(4, '0')}); run chmod 600`);
    }
  }
  return { key, kid: masterKeyId(key), source: 'file', generated: false, keyFile, warnings };
}

/**
 * Writes a secret file with mode 0600 unless it exists (returns false then), atomically: written to a
 * temporary file and hard-linked into place, so daemons starting together agree on one secret and a
 * crash never leaves a partial file. Used for the master key and the daemon's JWT secret.
 */
export async function createSecretFileExclusive(path: string, contents: string): Promise<boolean> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(contents, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(tmp, path);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'ENOSYS') return createWithoutLink(path, contents);
    throw err;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

// Filesystems without hard links: still exclusive, only not atomic against a crash mid-write.
async function createWithoutLink(path: string, contents: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    await handle.writeFile(contents, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  return true;
}
