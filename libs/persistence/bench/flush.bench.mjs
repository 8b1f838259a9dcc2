// Group-commit benchmark of the PostgreSQL execution store (not a test).
//   node_modules/.bin/node libs/persistence/bench/flush.bench.mjs       (PG_TEST_URL or 127.0.0.1:5432)
//   BENCH_EMBEDDED=1 node_modules/.bin/node libs/persistence/bench/flush.bench.mjs   (embedded PostgreSQL in a temp dir)
// 1. one flush statement of N events: through the pg pool (named = prepared), the pg pool unnamed,
//    and MikroORM's connection.execute (which inlines parameters as escaped literals);
// 2. the store end to end: W concurrent writers, each appending one event and awaiting durable().
import '../src/testing/fixtures/swc-hooks.mjs';

const { createTestDatabase } = await import('../src/testing/test-database.ts');
const { openDatabase } = await import('../src/database/open-database.ts');
const { PgExecutionStore, buildFlushStatement } = await import('../src/adapters/pg-execution-store.adapter.ts');
const { FakeExecution } = await import('../src/testing/fake-execution.ts');

const { mkdtemp, rm, chmod } = await import('node:fs/promises');
const { tmpdir } = await import('node:os');
const embeddedDir = process.env.BENCH_EMBEDDED ? await mkdtemp(`${tmpdir()}/af-bench-`) : undefined;
if (embeddedDir) await chmod(embeddedDir, 0o755); // reachable by the unprivileged account when run as root
const testDb = embeddedDir ? undefined : await createTestDatabase();
if (!embeddedDir && !testDb) process.exit(1);
const db = await openDatabase({ databaseUrl: testDb?.url, dataDir: embeddedDir ?? '/nonexistent', poolSize: 4 });
console.log(`PostgreSQL: ${embeddedDir ? 'embedded (18.4)' : (await db.pool.query('SHOW server_version')).rows[0].server_version}`);
const orm = db.orm.em.getConnection();

const ids = process.env.BENCH_IDS === 'v7' ? (await import('uuidv7')).uuidv7 : undefined;

/** a batch of `events` events over events/10 executions, as the engine would hand them over */
function batch(events) {
  const sink = { append: () => undefined };
  const entries = [];
  for (let i = 0; i < Math.max(1, events / 10); i++) {
    const run = new FakeExecution(sink, ids ? { id: ids() } : {}).start({ order: i, customer: 'ACME Corp', amount: 1234.5 });
    while (run.appended.length < Math.min(10, events)) run.nodeSucceeded(`node-${run.appended.length}`, { main: { step: run.appended.length, note: 'x'.repeat(80) } });
    entries.push({ executionId: run.id, events: run.appended, view: run.view, firstAppend: 1 });
  }
  return entries;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

// The machine is shared and noisy: the ways are interleaved round by round and medians reported.
const ways = {
  'pool, prepared': (b) => db.pool.query(buildFlushStatement(b)),
  'pool, unnamed': (b) => { const s = buildFlushStatement(b); return db.pool.query(s.text, s.values); },
  'mikro-orm execute': (b) => { const s = buildFlushStatement(b); return orm.execute(s.text.replace(/\$\d/g, '?'), s.values, 'run'); },
  'JSON build only': async (b) => buildFlushStatement(b),
};
const rows = [];
for (const size of [1, 10, 100, 1000, 5000]) {
  const rounds = size >= 1000 ? 12 : 40;
  const times = {};
  for (let round = 0; round < rounds + 3; round++) {
    for (const [name, run] of Object.entries(ways)) {
      const b = batch(size); // the engine's work, not timed
      const t0 = performance.now();
      await run(b);
      if (round >= 3) (times[name] ??= []).push(performance.now() - t0); // 3 warm-up rounds (and prepare)
    }
  }
  const row = { events: size };
  for (const name of Object.keys(ways)) row[`${name} ms`] = median(times[name]).toFixed(2);
  row['events/s (prepared)'] = Math.round(size / median(times['pool, prepared']) * 1000);
  rows.push(row);
}
console.log('\nOne flush statement (one transaction) of N events, 10 events per execution:');
console.table(rows);

const e2e = [];
for (const writers of [1, 10, 100, 1000]) {
  const store = new PgExecutionStore(db);
  const runs = Array.from({ length: writers }, () => new FakeExecution(store).start());
  await store.durable();
  const before = store.stats();
  const until = performance.now() + 2_000;
  let appends = 0;
  await Promise.all(runs.map(async (run) => {
    while (performance.now() < until) {
      run.nodeSucceeded('n'); // 2 events per step
      appends++;
      await store.durable();
    }
  }));
  const after = store.stats();
  const seconds = 2;
  const flushes = after.flushes - before.flushes;
  const events = after.eventsWritten - before.eventsWritten;
  e2e.push({ writers, 'events/s': Math.round(events / seconds), 'durable steps/s': Math.round(appends / seconds), 'flushes/s': Math.round(flushes / seconds),
    'events per flush': (events / flushes).toFixed(1), 'largest flush': after.largestFlushEvents });
  await store.close();
}
console.log('\nStore end to end: W writers, each step = 2 events appended, then await durable():');
console.table(e2e);

await db.close();
await testDb?.drop();
if (embeddedDir) await rm(embeddedDir, { recursive: true, force: true });
