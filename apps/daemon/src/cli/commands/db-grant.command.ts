import { restrictedRoleScript } from '@anchorflow/persistence';
import { EXIT } from '../exit-codes.js';
import type { CliIo } from '../io.js';

/**
 * `anchorflow db grant-sql [--role anchorflow] [--database anchorflow]`: the one-time grant (issue 17) an
 * admin runs as a PostgreSQL superuser, connected to the daemon's database, before the daemon's first
 * start: the daemon's role then owns its tables but cannot switch the audit log's triggers off. Prints
 * SQL only (no password: set it with `\password <role>`); needs no database.
 */
export function dbGrantSql(io: CliIo, options: { role?: string; database?: string }): number {
  io.out(restrictedRoleScript({ role: options.role ?? 'anchorflow', database: options.database ?? 'anchorflow' }));
  return EXIT.OK;
}
