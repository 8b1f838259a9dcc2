import { describe, expect, it } from '@jest/globals';
import { verifyChain, type AuditFields } from '@anchorflow/security';
import { AuditWriter } from './audit-writer.js';
import { MemoryAuditLog } from './memory-audit-log.js';

function setup(options: { maxBatch?: number; maxPending?: number; lingerMs?: number } = {}) {
  const store = new MemoryAuditLog();
  const logs: Array<{ level: string; fields: Record<string, unknown>; message: string; at: number }> = [];
  const listeners = new Set<() => void>();
  const push = (level: string, fields: Record<string, unknown>, message: string): void => {
    logs.push({ level, fields, message, at: Date.now() });
    for (const l of [...listeners]) l();
  };
  const logger = {
    error: (fields: Record<string, unknown>, message: string) => push('error', fields, message),
    warn: (fields: Record<string, unknown>, message: string) => push('warn', fields, message),
  };
  /** resolves with the first log line of this event (already logged or to come); rejects after timeoutMs */
  const waitForLog = (event: string, timeoutMs = 5000) => new Promise<(typeof logs)[number]>((resolve, reject) => {
    const check = (): boolean => {
      const found = logs.find((l) => l.fields.event === event);
      if (found) { clearTimeout(timer); listeners.delete(check); resolve(found); }
      return !!found;
    };
    const timer = setTimeout(() => { listeners.delete(check); reject(new Error(`no ${event} log line within ${timeoutMs} ms: ${JSON.stringify(logs.map((l) => l.fields.event))}`)); }, timeoutMs);
    if (!check()) listeners.add(check);
  });
  const appends: number[] = [];
  const append = store.append.bind(store);
  store.append = async (fields) => {
    appends.push(fields.length);
    return append(fields);
  };
  const writer = new AuditWriter<AuditFields>({ store, toFields: (f) => f, logger, retryInitialMs: 5, retryMaxMs: 20, ...options });
  return { store, writer, logs, appends, waitForLog };
}

const entry = (i: number): AuditFields => ({ actor: 'system', action: 'test.entry', target: `thing:${i}`, details: { i } });

describe('AuditWriter', () => {
  it('writes everything recorded in one turn as one batch, in order, as a valid chain', async () => {
    const { store, writer, appends } = setup();
    for (let i = 0; i < 500; i++) writer.record(entry(i));
    await writer.flush();
    expect(appends).toEqual([500]);
    expect(store.entries.map((e) => e.details)).toEqual(Array.from({ length: 500 }, (_, i) => ({ i })));
    expect(await verifyChain(store.entries)).toMatchObject({ ok: true, count: 500, head: { seq: 500 } });
    expect(writer.stats()).toMatchObject({ written: 500, batches: 1, pending: 0, dropped: 0 });
  });

  it('splits by maxBatch and groups what arrives while a batch is in flight', async () => {
    const { writer, appends } = setup({ maxBatch: 100 });
    for (let i = 0; i < 250; i++) writer.record(entry(i));
    await writer.flush();
    expect(appends).toEqual([100, 100, 50]);
  });

  it('retries a failed append until the store takes it, keeping order, and logs every failure', async () => {
    const { store, writer, logs } = setup();
    store.failNext = 3;
    for (let i = 0; i < 10; i++) writer.record(entry(i));
    await writer.flush();
    expect(store.entries.map((e) => (e.details as { i: number }).i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(logs.filter((l) => l.fields.event === 'audit.write-failed')).toHaveLength(3);
    expect(logs.some((l) => l.fields.event === 'audit.recovered')).toBe(true);
    expect(writer.stats()).toMatchObject({ written: 10, failedBatches: 3, dropped: 0 });
    expect((await verifyChain(store.entries)).ok).toBe(true);
  });

  it('keeps `at` fixed across retries (the entry is prepared once)', async () => {
    const { store } = setup();
    let calls = 0;
    const writer = new AuditWriter<number>({
      store, logger: { error: () => undefined, warn: () => undefined }, retryInitialMs: 5,
      toFields: (i) => { calls++; return { ...entry(i), at: new Date(Date.now() + calls) }; },
    });
    store.failNext = 2;
    writer.record(1);
    await writer.flush();
    expect(calls).toBe(1);
  });

  it('writes a batch the database refuses for its data entry by entry, replacing only the bad details', async () => {
    const { store, writer, logs } = setup();
    const append = store.append.bind(store);
    store.append = async (fields) => {
      if (fields.some((f) => (f.details as { bad?: boolean })?.bad)) throw Object.assign(new Error('unsupported Unicode escape sequence'), { code: '22P05' });
      return append(fields);
    };
    writer.record(entry(1));
    writer.record({ ...entry(2), details: { bad: true } });
    writer.record(entry(3));
    await writer.flush();
    expect(store.entries.map((e) => e.details)).toEqual([{ i: 1 }, { auditError: 'details could not be stored (SQLSTATE 22P05)' }, { i: 3 }]);
    expect(store.entries.map((e) => e.target)).toEqual(['thing:1', 'thing:2', 'thing:3']);
    expect(writer.stats().replacedDetails).toBe(1);
    expect(logs.some((l) => l.fields.event === 'audit.details-replaced')).toBe(true);
  });

  it('drops past maxPending and says so (never silently)', async () => {
    const { store, writer, logs, waitForLog } = setup({ maxPending: 1000 });
    store.failNext = 1;
    const firstDrop = Date.now();
    for (let i = 0; i < 1200; i++) writer.record(entry(i));
    expect(writer.stats().dropped).toBe(200);
    await writer.flush();
    expect(store.entries).toHaveLength(1000);
    // one line for the whole burst, once its 1 s window has passed
    const line = await waitForLog('audit.dropped');
    expect({ fields: line.fields, afterWindow: line.at - firstDrop >= 950 }).toEqual({ fields: expect.objectContaining({ dropped: 200, totalDropped: 200 }), afterWindow: true });
    expect(logs.filter((l) => l.fields.event === 'audit.dropped')).toHaveLength(1);
  });

  it('says it is saturated before it has to drop, and not once the store caught up', async () => {
    const { store, writer } = setup({ maxPending: 100 });
    store.failNext = 1;
    for (let i = 0; i < 89; i++) writer.record(entry(i));
    expect(writer.saturated).toBe(false);
    writer.record(entry(89));
    expect(writer.saturated).toBe(true);
    expect(writer.stats().dropped).toBe(0);
    await writer.flush();
    expect(writer.saturated).toBe(false);
  });

  it('close() writes what is buffered, then refuses new entries', async () => {
    const { store, writer } = setup();
    for (let i = 0; i < 5; i++) writer.record(entry(i));
    await writer.close(1000);
    expect(store.entries).toHaveLength(5);
    writer.record(entry(99));
    expect(writer.stats()).toMatchObject({ dropped: 1, pending: 0 });
  });

  it('close() gives up at its deadline while the database is down and logs how many entries are lost', async () => {
    const { store, writer, logs } = setup();
    store.failNext = 1_000_000;
    for (let i = 0; i < 7; i++) writer.record(entry(i));
    const waiting = writer.flush();
    await writer.close(200);
    await expect(waiting).rejects.toThrow('7 audit entries were not written');
    expect(logs.find((l) => l.fields.event === 'audit.lost')?.fields).toMatchObject({ lost: 7 });
    expect(writer.stats()).toMatchObject({ dropped: 7, pending: 0 });
  });

  it('recordDurable resolves once its entry is committed, and rejects (entry kept, not dropped) when the store does not take it in time', async () => {
    const { store, writer } = setup();
    await writer.recordDurable(entry(1), 1000);
    expect(store.entries.map((e) => e.target)).toEqual(['thing:1']);
    store.failNext = 1_000_000;
    await expect(writer.recordDurable(entry(2), 100)).rejects.toThrow('the audit entry was not committed within 100 ms');
    // the attempt stays queued: written once the database is back
    store.failNext = 0;
    await writer.flush();
    expect(store.entries.map((e) => e.target)).toEqual(['thing:1', 'thing:2']);
    expect(writer.stats().dropped).toBe(0);
  });

  it('recordDurable refuses at once while the buffer is saturated', async () => {
    const { store, writer } = setup({ maxPending: 1000 });
    store.failNext = 1_000_000;
    for (let i = 0; i < 900; i++) writer.record(entry(i));
    await expect(writer.recordDurable(entry(-1), 10_000)).rejects.toThrow('the audit buffer is saturated');
    store.failNext = 0;
    await writer.close(5000);
  });

  describe('lingerMs (issue 18: fewer, larger batches)', () => {
    const turn = () => new Promise<void>((r) => setImmediate(r));

    it('holds entries recorded over several turns for one batch, and flush() sends them at once', async () => {
      const { store, writer, appends } = setup({ lingerMs: 60_000 });
      for (let i = 0; i < 3; i++) {
        writer.record(entry(i));
        await turn();
        await turn();
      }
      // without lingering each turn would have written its own batch by now
      expect(appends).toEqual([]);
      expect(writer.stats()).toMatchObject({ pending: 3 });
      // a 60 s linger must not hold up whoever waits (jest would time out first)
      await writer.flush();
      expect(appends).toEqual([3]);
      expect(store.entries.map((e) => e.target)).toEqual(['thing:0', 'thing:1', 'thing:2']);
    });

    it('recordDurable (an API call\'s attempt entry) does not wait for the linger, and takes what lingered along', async () => {
      const { store, writer, appends } = setup({ lingerMs: 60_000 });
      writer.record(entry(1));
      await turn();
      await writer.recordDurable(entry(2), 5000);
      expect(appends).toEqual([2]);
      expect(store.entries.map((e) => e.target)).toEqual(['thing:1', 'thing:2']);
    });

    it('close() writes what lingers', async () => {
      const { store, writer } = setup({ lingerMs: 60_000 });
      writer.record(entry(1));
      await writer.close(5000);
      expect(store.entries.map((e) => e.target)).toEqual(['thing:1']);
      expect(writer.stats()).toMatchObject({ pending: 0, dropped: 0 });
    });
  });
});
