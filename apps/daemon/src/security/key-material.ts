import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createSecretFileExclusive, encodeMasterKey, loadOrCreateMasterKey, SecurityError } from '@anchorflow/security';

/**
 * Secrets the daemon reads from the environment only (never from config files, never part of the logged
 * configuration). `unknownEnvVars` knows them, so setting one draws no "not a known setting" warning.
 */
export const SECRET_ENV = {
  /** a full API key (`afk_<16 hex>_<43+ base64url>`) provisioned as an admin key; see bootstrap-admin-key.ts */
  adminKey: 'ANCHORFLOW_ADMIN_KEY',
  /** HS256 secret of editor tokens, ≥ 32 bytes; every daemon of a cluster needs the same */
  jwtSecret: 'ANCHORFLOW_JWT_SECRET',
  /** 32 bytes as base64 or 64 hex chars; encrypts stored credentials; every daemon of a cluster needs the same */
  masterKey: 'ANCHORFLOW_MASTER_KEY',
} as const;

export const JWT_SECRET_FILE = 'jwt.secret';
export const MASTER_KEY_FILE = 'master.key';

export type SecretSource = 'env' | 'file' | 'generated';

export interface KeyMaterial {
  jwtSecret: string;
  jwt: { source: SecretSource; file?: string };
  masterKey: Buffer;
  master: { source: SecretSource; file?: string; kid: string };
  /** non-fatal problems (key files readable by others); never contain key material */
  warnings: string[];
}

/**
 * The JWT secret and the master key: from ANCHORFLOW_JWT_SECRET / ANCHORFLOW_MASTER_KEY when set, else
 * from `<dataDir>/jwt.secret` / `<dataDir>/master.key`, each generated (mode 0600, atomically, so two
 * daemons starting at once agree) when missing. A blank variable counts as unset; a malformed one fails.
 */
export async function loadKeyMaterial(env: Readonly<Record<string, string | undefined>>, dataDir: string): Promise<KeyMaterial> {
  const jwt = await loadOrCreateJwtSecret({ envValue: env[SECRET_ENV.jwtSecret], keyFile: join(dataDir, JWT_SECRET_FILE) });
  const master = await loadOrCreateMasterKey({ envValue: env[SECRET_ENV.masterKey], keyFile: join(dataDir, MASTER_KEY_FILE) });
  return {
    jwtSecret: jwt.secret,
    jwt: { source: jwt.source, file: jwt.keyFile },
    masterKey: master.key,
    master: { source: master.source, file: master.keyFile, kid: master.kid },
    warnings: [...jwt.warnings, ...master.warnings],
  };
}

/** Strings to register with the redactor: the secrets in every textual form they could be logged in. */
export function keyMaterialSecrets(material: KeyMaterial): string[] {
  return [material.jwtSecret, encodeMasterKey(material.masterKey), material.masterKey.toString('hex'), material.masterKey.toString('base64url')];
}

export async function loadOrCreateJwtSecret(options: { envValue?: string; keyFile: string }): Promise<{ secret: string; source: SecretSource; keyFile?: string; warnings: string[] }> {
  if (options.envValue !== undefined && options.envValue.trim() !== '') {
    return { secret: options.envValue.trim(), source: 'env', warnings: [] };
  }
  const existing = await readSecretFile(options.keyFile);
  if (existing) return { ...existing, source: 'file', keyFile: options.keyFile };
  const secret = randomBytes(48).toString('base64url');
  let created: boolean;
  try {
    created = await createSecretFileExclusive(options.keyFile, `${secret}\n`);
  } catch (err) {
    throw new SecurityError('CONFIG_INVALID', `cannot create the JWT secret file ${options.keyFile}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  if (!created) {
    const winner = await readSecretFile(options.keyFile);
    if (!winner) throw new SecurityError('CONFIG_INVALID', `JWT secret file ${options.keyFile} vanished while being created`);
    return { ...winner, source: 'file', keyFile: options.keyFile };
  }
  return { secret, source: 'generated', keyFile: options.keyFile, warnings: [] };
}

async function readSecretFile(file: string): Promise<{ secret: string; warnings: string[] } | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SecurityError('CONFIG_INVALID', `cannot read the JWT secret file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const warnings: string[] = [];
  if (process.platform !== 'win32') {
    const mode = (await stat(file)).mode & 0o777;
    if (mode & 0o077) warnings.push(`JWT secret file ${file} is accessible by group or others (mode ${mode.toString(8).padStart(4, '0')}); run chmod 600`);
  }
  return { secret: text.trim(), warnings };
}

