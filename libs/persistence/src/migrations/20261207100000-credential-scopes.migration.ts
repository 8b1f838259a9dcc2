import { Migration } from '@mikro-orm/migrations';

/**
 * Credential scopes (issue 17): which workflows (ids) and node types may use a credential, and which
 * hosts a node holding it may call. `{}` (every existing row): no restriction.
 */
export class CredentialScopesMigration extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "credential" add column "scopes" jsonb not null default '{}'`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "credential" drop column if exists "scopes"`);
  }
}
