import { createCipheriv, createDecipheriv, createHash, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { SecurityError } from '../errors/security-error.js';

export const MASTER_KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const ALGORITHM = 'aes-256-gcm';

/** One encrypted credential as persisted; all binary fields base64. */
export interface VaultRecord {
  /** Which master key encrypted it: first 8 hex chars of SHA-256(key). Lets rotation run incrementally. */
  kid: string;
  iv: string;
  tag: string;
  ciphertext: string;
}

/**
 * Bound into every ciphertext as GCM additional authenticated data, so a record copied onto another
 * credential row (another id, or the same id with another type) no longer decrypts.
 */
export interface VaultAad {
  id: string;
  type: string;
}

export interface RotationItem {
  record: VaultRecord;
  aad: VaultAad;
}

/** Key id of a master key; public (a 32-bit prefix of a hash reveals nothing useful about 256 random bits). */
export function masterKeyId(key: Uint8Array): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

/**
 * AES-256-GCM for credential data. Holds the current master key plus, optionally, older ones so records
 * written before a rotation still decrypt until they are re-encrypted. Keys live in KeyObjects behind
 * private fields: they never show up in JSON.stringify, util.inspect or a logged `this`.
 */
export class Vault {
  readonly #current: { kid: string; key: KeyObject };
  readonly #byKid = new Map<string, KeyObject>();

  constructor(key: Uint8Array, options: { previousKeys?: Uint8Array[] } = {}) {
    this.#current = { kid: masterKeyId(checkKey(key)), key: createSecretKey(Buffer.from(key)) };
    this.#byKid.set(this.#current.kid, this.#current.key);
    for (const old of options.previousKeys ?? []) {
      const kid = masterKeyId(checkKey(old));
      if (!this.#byKid.has(kid)) this.#byKid.set(kid, createSecretKey(Buffer.from(old)));
    }
  }

  /** Key id new records are written under. */
  get kid(): string {
    return this.#current.kid;
  }

  canDecrypt(record: Pick<VaultRecord, 'kid'>): boolean {
    return this.#byKid.has(record.kid);
  }

  encrypt(data: object, aad: VaultAad): VaultRecord {
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      throw new SecurityError('INVALID_ARGUMENT', 'credential data must be a JSON object');
    }
    const iv = randomBytes(IV_BYTES); // random 96-bit IV per record; safe far beyond any credential count
    const cipher = createCipheriv(ALGORITHM, this.#current.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aadBytes(aad));
    const ciphertext = Buffer.concat([cipher.update(JSON.stringify(data), 'utf8'), cipher.final()]);
    return {
      kid: this.#current.kid,
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      ciphertext: ciphertext.toString('base64'),
    };
  }

  /**
   * Every failure (unknown kid, wrong key, tampered field, swapped record, malformed base64) is the same
   * `VAULT_DECRYPT_FAILED` with no cause attached: nothing about the key or plaintext can leak through it.
   */
  decrypt<T extends object = Record<string, unknown>>(record: VaultRecord, aad: VaultAad): T {
    const additionalData = aadBytes(aad);
    const key = record && typeof record.kid === 'string' ? this.#byKid.get(record.kid) : undefined;
    if (!key) {
      throw new SecurityError('VAULT_DECRYPT_FAILED', `credential ${aad.id} was encrypted under unknown master key '${String(record?.kid)}'`, {
        credentialId: aad.id,
        kid: record?.kid,
        reason: 'unknown-key',
      });
    }
    let plaintext: string;
    try {
      const iv = decodeBase64(record.iv, IV_BYTES);
      const tag = decodeBase64(record.tag, TAG_BYTES);
      const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(additionalData);
      decipher.setAuthTag(tag);
      plaintext = Buffer.concat([decipher.update(decodeBase64(record.ciphertext)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecurityError('VAULT_DECRYPT_FAILED', `credential ${aad.id} could not be decrypted (wrong key or tampered record)`, {
        credentialId: aad.id,
        kid: record.kid,
        reason: 'authentication-failed',
      });
    }
    return JSON.parse(plaintext) as T;
  }

  /**
   * Re-encrypts every item under `newKey` (fresh IVs), all or nothing: the first record that does not
   * decrypt throws before anything is returned, so the caller can persist the result in one transaction
   * and only then switch the key file. Extra fields on items (row ids…) are carried through.
   */
  rotate<T extends RotationItem>(items: Iterable<T>, newKey: Uint8Array): Array<T & { record: VaultRecord }> {
    const next = new Vault(newKey);
    const out: Array<T & { record: VaultRecord }> = [];
    for (const item of items) {
      out.push({ ...item, record: next.encrypt(this.decrypt(item.record, item.aad), item.aad) });
    }
    return out;
  }

  toJSON(): { kid: string } {
    return { kid: this.kid };
  }
}

function checkKey(key: Uint8Array): Uint8Array {
  if (!(key instanceof Uint8Array) || key.byteLength !== MASTER_KEY_BYTES) {
    throw new SecurityError('MASTER_KEY_INVALID', `master key must be exactly ${MASTER_KEY_BYTES} bytes`);
  }
  return key;
}

function aadBytes(aad: VaultAad): Buffer {
  if (!aad || typeof aad.id !== 'string' || typeof aad.type !== 'string' || aad.id === '' || aad.type === '') {
    throw new SecurityError('INVALID_ARGUMENT', 'vault AAD needs a non-empty credential id and type');
  }
  // A JSON array is unambiguous where plain concatenation is not ("a:b"+"c" vs "a"+"b:c").
  return Buffer.from(JSON.stringify(['anchorflow.credential.v1', aad.id, aad.type]), 'utf8');
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function decodeBase64(value: unknown, expectedBytes?: number): Buffer {
  if (typeof value !== 'string' || !BASE64.test(value)) throw new Error('malformed');
  const buf = Buffer.from(value, 'base64');
  if (expectedBytes !== undefined && buf.byteLength !== expectedBytes) throw new Error('malformed');
  return buf;
}
