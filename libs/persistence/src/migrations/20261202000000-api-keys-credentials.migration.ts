import { Migration } from '@mikro-orm/migrations';

/**
 * API keys and the credentials vault (issue 4). Neither table holds a secret in clear: `api_key.hash` is
 * the SHA-256 of a 256-bit random key, `credential` holds AES-256-GCM ciphertext under the master key
 * named by `kid`.
 */
export class ApiKeysCredentialsMigration extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "api_key" (
      "id" text not null, "name" text not null, "role" text not null, "hash" text not null,
      "created_at" timestamptz not null default now(), "expires_at" timestamptz null,
      "revoked_at" timestamptz null, "last_used_at" timestamptz null,
      primary key ("id"))`);

    this.addSql(`create table "credential" (
      "id" uuid not null, "type" text not null, "name" text not null,
      "kid" text not null, "iv" text not null, "tag" text not null, "ciphertext" text not null,
      "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(),
      primary key ("id"))`);
    this.addSql(`create unique index "credential_name_uq" on "credential" ("name")`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "credential" cascade`);
    this.addSql(`drop table if exists "api_key" cascade`);
  }
}
