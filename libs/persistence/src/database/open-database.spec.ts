import { afterAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase } from '../testing/test-database.js';
import { MIGRATIONS } from '../migrations/index.js';
import { openDatabase } from './open-database.js';

const testDb = await createTestDatabase();

(testDb ? describe : describe.skip)('openDatabase on an external PostgreSQL', () => {
  afterAll(() => testDb?.drop());

  it('applies the migrations to an empty database, and again on restart without changes', async () => {
    const first = await openDatabase({ databaseUrl: testDb!.url, dataDir: '/nonexistent' });
    try {
      expect(first.embedded).toBe(false);
      const tables = await first.pool.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`);
      expect(tables.rows.map((r) => r.table_name)).toEqual([
        'api_key', 'audit_entry', 'credential', 'execution', 'execution_event', 'mikro_orm_migrations', 'named_lease', 'plugin_log', 'plugin_state', 'resume_token', 'workflow', 'workflow_version',
      ]);
    } finally {
      await first.close();
    }
    const second = await openDatabase({ databaseUrl: testDb!.url, dataDir: '/nonexistent' });
    try {
      const applied = await second.pool.query<{ name: string }>('SELECT name FROM mikro_orm_migrations');
      expect(applied.rows.map((r) => r.name)).toEqual(MIGRATIONS.map((m) => m.name));
      expect(await second.orm.migrator.getPending()).toEqual([]);
      // histories are not pglz-compressed (its CPU was a sixth of the server's work per execution): lz4, or stored as they are
      const events = await second.pool.query<{ compression: string; storage: string }>(
        `SELECT attcompression AS compression, attstorage AS storage FROM pg_attribute WHERE attrelid = 'execution_event'::regclass AND attname = 'events'`);
      expect(events.rows[0]!.compression === 'l' || events.rows[0]!.storage === 'e').toBe(true);
    } finally {
      await second.close();
    }
  });

  it('lets daemons started at the same moment on one empty database migrate it once, without failing', async () => {
    const fresh = await createTestDatabase();
    try {
      const both = await Promise.all([0, 1, 2].map(() => openDatabase({ databaseUrl: fresh!.url, dataDir: '/nonexistent' })));
      try {
        const applied = await both[0]!.pool.query<{ name: string }>('SELECT name FROM mikro_orm_migrations');
        expect(applied.rows.map((r) => r.name)).toEqual(MIGRATIONS.map((m) => m.name));
      } finally {
        await Promise.all(both.map((db) => db.close()));
      }
    } finally {
      await fresh?.drop();
    }
  });

  it('leaves nothing for the entities to change in the migrated schema', async () => {
    const db = await openDatabase({ databaseUrl: testDb!.url, dataDir: '/nonexistent' });
    try {
      const diff = await db.orm.schema.getUpdateSchemaSQL({ wrap: false });
      expect(diff.trim()).toBe('');
    } finally {
      await db.close();
    }
  });
});
