import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openDatabase, type Database } from '../database/open-database.js';
import { createTestDatabase } from '../testing/test-database.js';
import { lastPluginStateEntry, PgPluginState, pluginStateFor } from './pg-plugin-state.adapter.js';

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

  it('reads the entry with the greatest key under a prefix, and nothing for a prefix without keys', async () => {
    const state = pluginStateFor(db, 'anchor-heads');
    for (const seq of [9, 10, 2]) await state.set(`audit/${String(seq).padStart(16, '0')}`, { seq });
    await state.set('audit0', { seq: -1 }); // not under the prefix 'audit/', though greater than every key under it
    await state.set('audit_x', { seq: -2 }); // '_' is no wildcard
    await pluginStateFor(db, 'someone-else').set(`audit/${'9'.repeat(16)}`, { seq: 'other plugin' });
    expect(await lastPluginStateEntry(db, 'anchor-heads', 'audit/')).toEqual({ key: `audit/${'10'.padStart(16, '0')}`, value: { seq: 10 } });
    expect(await lastPluginStateEntry(db, 'anchor-heads', 'audit_')).toEqual({ key: 'audit_x', value: { seq: -2 } });
    expect(await lastPluginStateEntry(db, 'anchor-heads', 'nothing/')).toBeUndefined();
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

  describe('append-only logs (plugin_log)', () => {
    it('appends at positions 0, 1, 2, … per plugin and stream, and reads them back in order from a position', async () => {
      const a = pluginStateFor(db, 'observer-a');
      const b = pluginStateFor(db, 'observer-b');
      expect(await a.log('s1').length()).toBe(0);
      expect(await a.log('s1').append([{ n: 0 }, { n: 1 }])).toBe(2);
      expect(await a.log('s1').append([{ n: 2, big: 12345678901234567890n }])).toBe(3);
      await b.log('s1').append(['other plugin']);
      await a.log('s2').append(['other stream']);
      expect(await a.log('s1').read()).toEqual([{ pos: 0, value: { n: 0 } }, { pos: 1, value: { n: 1 } }, { pos: 2, value: { n: 2, big: '12345678901234567890' } }]);
      expect(await a.log('s1').read({ from: 1, limit: 1 })).toEqual([{ pos: 1, value: { n: 1 } }]);
      expect(await b.log('s1').read()).toEqual([{ pos: 0, value: 'other plugin' }]);
      expect(await a.log('s2').length()).toBe(1);
    });

    it('refuses an append whose expected length is stale, writing nothing, not even the checkpoint', async () => {
      const log = pluginStateFor(db, 'conflicts').log('x');
      await log.append(['a'], { expectedLength: 0, checkpoint: { cursor: 1 } });
      await expect(log.append(['b'], { expectedLength: 0, checkpoint: { cursor: 99 } })).rejects.toMatchObject({ code: 'LOG_CONFLICT', message: expect.stringContaining('holds 1 entries, not the expected 0') });
      expect(await log.read()).toEqual([{ pos: 0, value: 'a' }]);
      expect(await pluginStateFor(db, 'conflicts').get('cursor')).toBe(1);
    });

    it('writes the checkpoint keys in the same transaction as the entries (a failed append leaves both untouched)', async () => {
      const state = pluginStateFor(db, 'checkpoints');
      await state.log('x').append([1, 2], { checkpoint: { cursor: { next: 2 }, other: 'x' } });
      expect(await state.get('cursor')).toEqual({ next: 2 });
      expect(await state.get('other')).toBe('x');
      // an empty append still moves the checkpoint (a range without events)
      await state.log('x').append([], { checkpoint: { cursor: { next: 2, block: 9 } } });
      expect(await state.get('cursor')).toEqual({ next: 2, block: 9 });
    });

    it('gives each of 20 concurrent appenders its own positions: nothing lost, nothing written twice', async () => {
      const log = pluginStateFor(db, 'concurrent').log('x');
      await Promise.all(Array.from({ length: 20 }, (_, i) => log.append([`${i}a`, `${i}b`])));
      const rows = await log.read({ limit: 100 });
      expect(rows.map((r) => r.pos)).toEqual(Array.from({ length: 40 }, (_, i) => i));
      // each appender's two entries are adjacent (one statement, one transaction)
      for (let i = 0; i < 40; i += 2) expect((rows[i]!.value as string).replace('a', 'b')).toBe(rows[i + 1]!.value);
    });

    it('never lets an entry change: UPDATE is refused by the database', async () => {
      await pluginStateFor(db, 'immutable').log('x').append(['kept']);
      await expect(db.pool.query(`UPDATE plugin_log SET value = '"changed"' WHERE plugin = 'immutable'`)).rejects.toThrow('append-only');
      expect(await pluginStateFor(db, 'immutable').log('x').read()).toEqual([{ pos: 0, value: 'kept' }]);
    });

    it('refuses stream names that are empty, too long or hold control characters, naming the rule', () => {
      const state = pluginStateFor(db, 'names');
      expect(() => state.log('')).toThrow('a log stream name must be a string of 1 to 200 characters');
      expect(() => state.log('x'.repeat(201))).toThrow('1 to 200 characters');
      expect(() => state.log('a\nb')).toThrow('control characters');
    });
  });
});
