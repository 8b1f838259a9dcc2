import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openDatabase, type Database } from '../database/open-database.js';
import { createTestDatabase } from '../testing/test-database.js';
import { PgPluginState, pluginStateFor } from './pg-plugin-state.adapter.js';

const testDb = await createTestDatabase();

(testDb ? describe : describe.skip)('PgPluginState', () => {
  let db: Database;

  beforeAll(async () => {
    db = await openDatabase({ databaseUrl: testDb!.url, dataDir: '/nonexistent', poolSize: 12 });
  });
  afterAll(async () => {
    await db?.close();
    await testDb?.drop();
  });

  it('gets, sets and deletes JSON values scoped to the plugin', async () => {
    const anchor = pluginStateFor(db, 'chain-anchor');
    const other = new PgPluginState(db).pluginStateFor('notifications');
    await anchor.set('batch/1', { leaves: ['a', 'b'], root: null });
    await anchor.set('flag', false);
    expect(await anchor.get('batch/1')).toEqual({ leaves: ['a', 'b'], root: null });
    expect(await anchor.get('flag')).toBe(false);
    expect(await other.get('batch/1')).toBeUndefined();
    await anchor.delete('batch/1');
    expect(await anchor.get('batch/1')).toBeUndefined();
    await anchor.set('flag', undefined);
    expect(await anchor.get('flag')).toBeUndefined();
  });

  it('lists keys by prefix in key order, with after and limit; LIKE wildcards in the prefix are literal', async () => {
    const state = pluginStateFor(db, 'payment-observer');
    for (const key of ['cursor/b', 'cursor/a', 'cursor/c', 'cursorx', 'cur%or/z', 'other']) await state.set(key, key.length);
    expect((await state.list('cursor/')).map((e) => e.key)).toEqual(['cursor/a', 'cursor/b', 'cursor/c']);
    expect(await state.list('cursor/', { after: 'cursor/a', limit: 1 })).toEqual([{ key: 'cursor/b', value: 8 }]);
    expect((await state.list('cur%')).map((e) => e.key)).toEqual(['cur%or/z']);
    expect((await state.list('')).length).toBe(6);
  });

  it('applies 50 concurrent increments atomically, starting from a missing key', async () => {
    const state = pluginStateFor(db, 'counter');
    const calls: Array<number | undefined> = [];
    await Promise.all(Array.from({ length: 50 }, () => state.update<number>('n', (n) => {
      calls.push(n);
      return (n ?? 0) + 1;
    })));
    expect(await state.get('n')).toBe(50);
    // each update ran its function exactly once, and each saw a different value
    expect(calls).toHaveLength(50);
    expect(new Set(calls).size).toBe(50);
  });

  it('deletes when the update returns undefined and leaves the value when the function throws', async () => {
    const state = pluginStateFor(db, 'updates');
    await state.set('k', { v: 1 });
    await expect(state.update('k', () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(await state.get('k')).toEqual({ v: 1 });
    await expect(state.update('missing', () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(await state.list('missing')).toEqual([]);
    expect(await state.update('k', () => undefined)).toBeUndefined();
    expect(await state.get('k')).toBeUndefined();
  });
});
