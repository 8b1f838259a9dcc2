import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openDatabase, type Database } from '../database/open-database.js';
import { createTestDatabase } from '../testing/test-database.js';
import { PgNamedLeases } from './pg-named-leases.adapter.js';

const testDb = await createTestDatabase();

(testDb ? describe : describe.skip)('PgNamedLeases', () => {
  let db: Database;
  let leases: PgNamedLeases;

  beforeAll(async () => {
    db = await openDatabase({ databaseUrl: testDb!.url, dataDir: '/nonexistent' });
    leases = new PgNamedLeases(db);
  });
  afterAll(async () => {
    await db?.close();
    await testDb?.drop();
  });

  it('gives a name to one holder at a time; the holder renews, the other waits', async () => {
    expect(await leases.acquire('service:p/ticker', 'daemon-a', 60_000)).toBe(true);
    expect(await leases.acquire('service:p/ticker', 'daemon-b', 60_000)).toBe(false);
    expect(await leases.acquire('service:p/ticker', 'daemon-a', 60_000)).toBe(true);
    expect(await leases.holder('service:p/ticker')).toBe('daemon-a');
    // other names are independent
    expect(await leases.acquire('trigger:w1/n1', 'daemon-b', 60_000)).toBe(true);
  });

  it('lets another holder take a lease once it expired, and at once after a release', async () => {
    expect(await leases.acquire('short', 'daemon-a', 1)).toBe(true);
    await db.pool.query(`SELECT pg_sleep(0.01)`);
    expect(await leases.holder('short')).toBeUndefined();
    expect(await leases.acquire('short', 'daemon-b', 60_000)).toBe(true);
    await leases.release('short', 'daemon-a'); // not the holder: no effect
    expect(await leases.holder('short')).toBe('daemon-b');
    await leases.release('short', 'daemon-b');
    expect(await leases.acquire('short', 'daemon-a', 60_000)).toBe(true);
  });

  it('admits exactly one of many concurrent claimants', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => leases.acquire('race', `daemon-${i}`, 60_000)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });
});
