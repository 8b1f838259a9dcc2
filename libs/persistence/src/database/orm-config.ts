import 'reflect-metadata';
import { ReflectMetadataProvider } from '@mikro-orm/decorators/legacy';
import { Migrator } from '@mikro-orm/migrations';
import { defineConfig, type Options } from '@mikro-orm/postgresql';
import { ENTITIES } from '../entities/index.js';
import { MIGRATIONS } from '../migrations/index.js';
import type { DatabaseLogger } from './database-logger.js';

/** MikroORM configuration for Anchorflow's schema on the PostgreSQL at `url`. */
export function ormConfig(url: string, logger?: DatabaseLogger): Options {
  return defineConfig({
    clientUrl: url,
    entities: ENTITIES,
    metadataProvider: ReflectMetadataProvider,
    extensions: [Migrator],
    migrations: {
      migrationsList: MIGRATIONS,
      tableName: 'mikro_orm_migrations',
      // no schema snapshot files written next to the code at run time
      snapshot: false,
      silent: true,
    },
    // the database must exist (embedded: created at start); never create one by accident
    ensureDatabase: false,
    pool: { min: 0, max: 5 },
    debug: false,
    logger: (message) => logger?.info(message),
  });
}
