import type { MigrationObject } from '@mikro-orm/core';
import { InitialMigration } from './20261122000000-initial.migration.js';
import { ExecutionLeasesMigration } from './20261122010000-execution-leases.migration.js';

/**
 * Every migration, in order. Registered by name (stable under minification) instead of a file glob,
 * which jest's ESM mode cannot import. Never rename an entry: the name is what the migrations table records.
 */
export const MIGRATIONS: MigrationObject[] = [
  { name: 'Migration20261122000000_initial', class: InitialMigration },
  { name: 'Migration20261122010000_execution_leases', class: ExecutionLeasesMigration },
];
