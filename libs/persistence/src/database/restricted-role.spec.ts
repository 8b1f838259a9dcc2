/**
 * The daemon's restricted database role (issue 17) on the machine's PostgreSQL: after the one-time
 * grant, the role owns its tables (migrations run as it) but cannot switch the audit log's protection
 * off — no DISABLE TRIGGER, no session_replication_role, no dropping or replacing the trigger or its
 * function, no dropping the guard.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.js';
import { openDatabase, type Database } from './open-database.js';
import { restrictedRoleScript, setUpRestrictedRole } from './restricted-role.js';

let testDb: TestDatabase | undefined;
let db: Database | undefined;
let role: string;
let asRole: pg.Client;
let dataDir: string;

beforeAll(async () => {
  testDb = await createTestDatabase();
  if (!testDb) return;
  role = `af_role_${randomBytes(4).toString('hex')}`;
  const database = new URL(testDb.url).pathname.slice(1);
  const superuser = new pg.Client({ connectionString: testDb.url });
  await superuser.connect();
  try {
    await setUpRestrictedRole(superuser, { role, database, password: 'role-password-1' });
    // twice: the grant is idempotent (the embedded database runs it at every start)
    await setUpRestrictedRole(superuser, { role, database });
  } finally {
    await superuser.end();
  }
  const roleUrl = new URL(testDb.url);
  roleUrl.username = role;
  roleUrl.password = 'role-password-1';
  dataDir = await mkdtemp(join(tmpdir(), 'af-role-'));
  // the daemon's start: migrations run as the restricted role
  db = await openDatabase({ databaseUrl: roleUrl.toString(), dataDir });
  await db.pool.query(`INSERT INTO audit_entry (seq, at, actor, action, target, details, prev_hash, hash) VALUES (1, now(), 'system', 'test', 't', '{}', 'p', 'h')`);
  asRole = new pg.Client({ connectionString: roleUrl.toString() });
  asRole.on('error', () => undefined);
  await asRole.connect();
});

afterAll(async () => {
  await asRole?.end().catch(() => undefined);
  await db?.close();
  if (testDb) {
    await testDb.drop();
    const server = new URL(testDb.url);
    server.pathname = '/postgres';
    const admin = new pg.Client({ connectionString: server.toString() });
    await admin.connect();
    await admin.query(`DROP ROLE IF EXISTS "${role}"`).finally(() => admin.end());
  }
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const refused = (sql: string) => asRole.query(sql).then(() => 'accepted', (e: Error & { code?: string }) => `${e.code}: ${e.message}`);

describe('restricted database role (issue 17)', () => {
  it('owns the tables it migrated and is not a superuser', async () => {
    if (!testDb) return;
    const { rows } = await asRole.query<{ tableowner: string; rolsuper: boolean }>(
      `SELECT t.tableowner, r.rolsuper FROM pg_tables t JOIN pg_roles r ON r.rolname = t.tableowner WHERE t.schemaname = 'public' AND t.tablename IN ('audit_entry', 'credential', 'execution_event') ORDER BY t.tablename`);
    expect(rows).toEqual([{ tableowner: role, rolsuper: false }, { tableowner: role, rolsuper: false }, { tableowner: role, rolsuper: false }]);
    // and keeps what migrations need: create, alter, drop its own tables
    for (const sql of ['CREATE TABLE scratch (x int)', 'ALTER TABLE scratch ADD COLUMN y int', 'CREATE INDEX scratch_x ON scratch (x)', 'DROP TABLE scratch']) {
      expect(await refused(sql)).toBe('accepted');
    }
  });

  it('cannot ALTER TABLE … DISABLE TRIGGER (nor ENABLE REPLICA TRIGGER), on the audit log or any table', async () => {
    if (!testDb) return;
    for (const sql of [
      'ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only_row',
      'ALTER TABLE audit_entry DISABLE TRIGGER ALL',
      'alter table audit_entry enable   replica trigger audit_entry_append_only_row',
      'ALTER TABLE credential DISABLE TRIGGER USER',
    ]) {
      expect({ sql, outcome: await refused(sql) }).toEqual({ sql, outcome: expect.stringMatching(/^42501: .*anchorflow guard/) });
    }
    expect((await asRole.query(`SELECT tgenabled FROM pg_trigger WHERE tgname = 'audit_entry_append_only_row'`)).rows).toEqual([{ tgenabled: 'O' }]);
  });

  it('cannot SET session_replication_role (which would silence every trigger)', async () => {
    if (!testDb) return;
    expect(await refused('SET session_replication_role = replica')).toMatch(/^42501: permission denied to set parameter "session_replication_role"/);
  });

  it('cannot drop or replace the trigger, its function, the table, or the guard; the log stays append-only', async () => {
    if (!testDb) return;
    for (const sql of [
      'DROP TRIGGER audit_entry_append_only_row ON audit_entry',
      'ALTER TRIGGER audit_entry_append_only_row ON audit_entry RENAME TO x',
      `CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$`,
      'DROP FUNCTION audit_entry_append_only() CASCADE',
      'ALTER TABLE audit_entry RENAME TO audit_old',
      'DROP TABLE audit_entry',
    ]) {
      expect({ sql, outcome: await refused(sql) }).toEqual({ sql, outcome: expect.stringMatching(/^42501: .*anchorflow guard/) });
    }
    expect(await refused('DROP EVENT TRIGGER anchorflow_guard_ddl')).toMatch(/^42501: must be owner of event trigger/);
    expect(await refused('DROP SCHEMA anchorflow_guard CASCADE')).toMatch(/^42501: must be owner of schema/);
    expect(await refused('DELETE FROM audit_entry')).toMatch(/^55000: audit_entry is append-only/);
    expect(await refused('TRUNCATE audit_entry')).toMatch(/^55000: audit_entry is append-only/);
    expect((await asRole.query('SELECT count(*)::int AS n FROM audit_entry')).rows).toEqual([{ n: 1 }]);
  });

  it('prints the one-time grant as SQL an admin can run with psql', () => {
    const script = restrictedRoleScript({ role: 'anchorflow', database: 'anchorflow' });
    expect(script).toContain('ALTER ROLE "anchorflow" LOGIN NOSUPERUSER');
    expect(script).toContain('CREATE EVENT TRIGGER anchorflow_guard_ddl ON ddl_command_end');
    expect(script).not.toContain('PASSWORD');
  });
});
