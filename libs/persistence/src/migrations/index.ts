import type { MigrationObject } from '@mikro-orm/core';
import { InitialMigration } from './20261122000000-initial.migration.js';
import { ExecutionLeasesMigration } from './20261122010000-execution-leases.migration.js';
import { EventChunksMigration } from './20261122020000-event-chunks.migration.js';
import { AuditLogMigration } from './20261201000000-audit-log.migration.js';
import { ApiKeysCredentialsMigration } from './20261202000000-api-keys-credentials.migration.js';
import { NamedLeasesMigration } from './20261207000000-named-leases.migration.js';
import { CredentialScopesMigration } from './20261207100000-credential-scopes.migration.js';
import { PluginLogMigration } from './20261207110000-plugin-log.migration.js';
import { EventLz4Migration } from './20261207130000-event-lz4.migration.js';
import { ActiveExecutionsIndexMigration } from './20261207140000-active-executions-index.migration.js';

/**
 * Every migration, in order. Registered by name (stable under minification) instead of a file glob,
 * which jest's ESM mode cannot import. Never rename an entry: the name is what the migrations table records.
 */
export const MIGRATIONS: MigrationObject[] = [
  { name: 'Migration20261122000000_initial', class: InitialMigration },
  { name: 'Migration20261122010000_execution_leases', class: ExecutionLeasesMigration },
  { name: 'Migration20261122020000_event_chunks', class: EventChunksMigration },
  { name: 'Migration20261201000000_audit_log', class: AuditLogMigration },
  { name: 'Migration20261202000000_api_keys_credentials', class: ApiKeysCredentialsMigration },
  { name: 'Migration20261207000000_named_leases', class: NamedLeasesMigration },
  { name: 'Migration20261207100000_credential_scopes', class: CredentialScopesMigration },
  { name: 'Migration20261207110000_plugin_log', class: PluginLogMigration },
  { name: 'Migration20261207130000_event_lz4', class: EventLz4Migration },
  { name: 'Migration20261207140000_active_executions_index', class: ActiveExecutionsIndexMigration },
];
