import { masterKeyId, Vault, type VaultRecord } from '@anchorflow/security';

import { inTransaction, type SqlPool } from '../database/sql-pool.js';

export interface RotateMasterKeyResult {
  /** rows re-encrypted under the new key */
  rotated: number;
  /** rows already under the new key (a rotation run again after a crash or a partial switch) */
  alreadyCurrent: number;
  /** key id of the new key, as now stored in every row */
  kid: string;
}

/**
 * Re-encrypts every stored credential from `oldKey` to `newKey` (32-byte master keys, see
 * `parseMasterKey`) in ONE transaction: rows are locked, decrypted with the old key, encrypted with the
 * new one (fresh IVs, same id/type binding) and written back; any row that the old key cannot decrypt
 * (wrong old key, tampered row, a third key) aborts the whole rotation with VAULT_DECRYPT_FAILED and
 * nothing changes. Rows already under the new key are left alone, so running it twice is harmless.
 *
 * Procedure (the CLI's `anchorflow keys rotate-master` or similar):
 *   1. stop the daemons (a running daemon holds the old key and could not read rotated rows);
 *   2. `await rotateMasterKey(db, oldKey, newKey)` on the open database (`openDatabase`, migrations applied);
 *   3. put the new key in place: ANCHORFLOW_MASTER_KEY, or `<dataDir>/master.key` (mode 0600,
 *      `encodeMasterKey(newKey)`); keep a backup of the old key until the daemons run on the new one;
 *   4. start the daemons.
 */
export async function rotateMasterKey(db: { pool: SqlPool }, oldKey: Uint8Array, newKey: Uint8Array): Promise<RotateMasterKeyResult> {
  const oldVault = new Vault(oldKey);
  const newKid = masterKeyId(newKey);
  if (newKid === oldVault.kid) throw new Error('the new master key is the old one');
  return inTransaction(db.pool, async (client) => {
    const { rows } = await client.query<{ id: string; type: string; kid: string; iv: string; tag: string; ciphertext: string }>(
      `SELECT id, type, kid, iv, tag, ciphertext FROM credential ORDER BY id FOR UPDATE`);
    const pending = rows.filter((r) => r.kid !== newKid);
    // all or nothing: throws before anything is written if one row does not decrypt with the old key
    const rotated = oldVault.rotate(
      pending.map((r) => ({ record: { kid: r.kid, iv: r.iv, tag: r.tag, ciphertext: r.ciphertext } as VaultRecord, aad: { id: r.id, type: r.type } })),
      newKey,
    );
    for (const item of rotated) {
      await client.query(`UPDATE credential SET kid = $2, iv = $3, tag = $4, ciphertext = $5 WHERE id = $1`,
        [item.aad.id, item.record.kid, item.record.iv, item.record.tag, item.record.ciphertext]);
    }
    return { rotated: rotated.length, alreadyCurrent: rows.length - pending.length, kid: newKid };
  });
}
