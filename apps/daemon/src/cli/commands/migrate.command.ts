import { cliConfig, openCliDatabase } from '../cli-context.js';
import { EXIT } from '../exit-codes.js';
import type { CliIo } from '../io.js';

/** Applies pending migrations and exits (the daemon also applies them at start-up). */
export async function migrate(io: CliIo): Promise<number> {
  const config = cliConfig(io);
  const db = await openCliDatabase(config, io, { migrate: true });
  try {
    const applied = db.applied ?? [];
    io.out(applied.length ? `applied ${applied.length} migration(s): ${applied.join(', ')}` : 'database schema is up to date');
    return EXIT.OK;
  } finally {
    await db.close();
  }
}
