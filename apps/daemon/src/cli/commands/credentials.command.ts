import { readFile, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { encodeMasterKey, generateMasterKey, masterKeyId, parseMasterKey } from '@anchorflow/security';
import { PgAuditLog } from '@anchorflow/persistence';
import { rotateMasterKey } from '@anchorflow/persistence';
import { MASTER_KEY_FILE, SECRET_ENV } from '../../security/key-material.js';
import { withDatabase } from '../cli-context.js';
import { CliError, EXIT } from '../exit-codes.js';
import type { CliIo } from '../io.js';

/**
 * `anchorflow credentials rotate-master-key`: re-encrypts every stored credential under a new master key
 * in one transaction, then puts the new key where the old one came from. Stop the daemons first: a
 * running daemon holds the old key. The new key comes from ANCHORFLOW_NEW_MASTER_KEY or is generated.
 * When the old key came from ANCHORFLOW_MASTER_KEY, the new one is printed once for the operator to put
 * in the environment; when it came from `<dataDir>/master.key`, the file is replaced (the old key is
 * kept as master.key.old until the operator deletes it).
 */
export async function credentialsRotateMasterKey(io: CliIo): Promise<number> {
  return withDatabase(io, async (db, config) => {
    const keyFile = join(resolve(io.cwd, config.dataDir), MASTER_KEY_FILE);
    const fromEnv = io.env[SECRET_ENV.masterKey];
    let oldText: string;
    try {
      oldText = fromEnv ?? (await readFile(keyFile, 'utf8'));
    } catch {
      throw new CliError(`no master key: neither ${SECRET_ENV.masterKey} nor ${keyFile} is set; nothing to rotate`, EXIT.FAILURE);
    }
    const oldKey = parseMasterKey(oldText.trim());
    const newText = io.env.ANCHORFLOW_NEW_MASTER_KEY;
    const newKey = newText ? parseMasterKey(newText.trim()) : generateMasterKey();
    const result = await rotateMasterKey(db, oldKey, newKey);
    await new PgAuditLog(db).append([{ actor: 'cli', action: 'credentials.rotate-master-key', target: 'vault', details: { from: masterKeyId(oldKey), to: result.kid, rotated: result.rotated } }]);
    if (fromEnv) {
      io.err(`re-encrypted ${result.rotated} credential(s) under key ${result.kid}; set ${SECRET_ENV.masterKey} to the new key below (shown once) before starting the daemons`);
      if (!newText) io.out(encodeMasterKey(newKey));
    } else {
      await rename(keyFile, `${keyFile}.old`);
      await writeFile(keyFile, `${encodeMasterKey(newKey)}\n`, { mode: 0o600, flag: 'wx' });
      io.err(`re-encrypted ${result.rotated} credential(s) under key ${result.kid}; ${keyFile} now holds the new key, the old one is in ${keyFile}.old (delete it once the daemons run)`);
    }
    return EXIT.OK;
  });
}
