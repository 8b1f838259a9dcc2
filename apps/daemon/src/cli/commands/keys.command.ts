import { userInfo } from 'node:os';
import { isRole, ROLES } from '@anchorflow/security';
import { ApiKeys, type ApiKeyInfo } from '../../auth/api-keys.js';
import { PgApiKeyStore } from '../../auth/api-key.store.js';
import { PgAuditLog } from '@anchorflow/persistence';
import { ApiError } from '../../common/api-error.js';
import { type CliDatabase, withDatabase } from '../cli-context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { type CliIo, printJson } from '../io.js';

/** Who acts when the CLI changes keys directly in the database (recorded in the audit log). */
function cliActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

async function audited(db: CliDatabase, action: string, key: ApiKeyInfo): Promise<void> {
  await new PgAuditLog(db).append([{ actor: cliActor(), action, target: `key:${key.id}`, details: { name: key.name, role: key.role, expiresAt: key.expiresAt, via: 'cli (direct database)' } }]);
}

function apiErrorToCli(err: unknown): never {
  if (err instanceof ApiError) throw new CliError(`${err.code}: ${err.message}`, EXIT.FAILURE);
  throw err;
}

/** Creates a key in the database and prints its secret once. Works with the daemon stopped (bootstrap, lost admin key). */
export async function keysCreate(io: CliIo, options: { name: string; role: string; expires?: string }): Promise<number> {
  if (!isRole(options.role)) throw new CliError(`--role must be one of ${ROLES.join(', ')}`, EXIT.USAGE);
  let expiresAt: Date | null = null;
  if (options.expires) {
    const days = /^(\d+)d$/.exec(options.expires);
    expiresAt = days ? new Date(Date.now() + Number(days[1]) * 86_400_000) : new Date(options.expires);
    if (Number.isNaN(expiresAt.getTime())) throw new CliError(`--expires must be an ISO date or <n>d, got "${options.expires}"`, EXIT.USAGE);
  }
  const created = await withDatabase(io, async (db) => {
    const result = await new ApiKeys(new PgApiKeyStore(db)).create({ name: options.name, role: options.role, expiresAt }).catch(apiErrorToCli);
    await audited(db, 'keys.create', result.key);
    return result;
  });
  io.err(`created ${created.key.role} key ${created.key.id}; the secret below is shown once and never again`);
  printJson(io, { ...created.key, secret: created.secret });
  return EXIT.OK;
}

export async function keysList(io: CliIo): Promise<number> {
  const keys = await withDatabase(io, (db) => new ApiKeys(new PgApiKeyStore(db)).list());
  printJson(io, keys);
  return EXIT.OK;
}

export async function keysRevoke(io: CliIo, id: string): Promise<number> {
  const key = await withDatabase(io, async (db) => {
    const revoked = await new ApiKeys(new PgApiKeyStore(db)).revoke(id).catch(apiErrorToCli);
    await audited(db, 'keys.revoke', revoked);
    return revoked;
  });
  io.err(`revoked key ${key.id} (daemons stop accepting it within their key cache time, about a second)`);
  printJson(io, key);
  return EXIT.OK;
}
