import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { DAEMON_ID_FILE, derivedDaemonId, resolveDaemonId } from './daemon-id.js';

const made: string[] = [];
const fresh = () => {
  const dir = mkdtempSync(join(tmpdir(), 'af-daemon-id-'));
  made.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

describe('resolveDaemonId', () => {
  it('uses the configured id as is', () => {
    expect(resolveDaemonId({ daemonId: 'daemon-1', dataDir: fresh() })).toEqual({ id: 'daemon-1', source: 'config' });
  });

  it('generates an id from the host name and the data dir once, keeps it in the data dir and reads it back', () => {
    const dataDir = join(fresh(), 'not-yet-created');
    const first = resolveDaemonId({ dataDir }, { host: 'db.example.internal' });
    expect(first).toEqual({ id: expect.stringMatching(/^db-example-internal-[0-9a-f]{8}$/), source: 'generated' });
    expect(readFileSync(join(dataDir, DAEMON_ID_FILE), 'utf8').trim()).toBe(first.id);
    // the host name changes (a new container): the kept id stays
    expect(resolveDaemonId({ dataDir }, { host: 'other' })).toEqual({ id: first.id, source: 'file' });
  });

  it('gives two data dirs on one host two ids', () => {
    expect(derivedDaemonId('/var/lib/a', 'h')).not.toBe(derivedDaemonId('/var/lib/b', 'h'));
    expect(derivedDaemonId('/var/lib/a', 'h')).toBe(derivedDaemonId('/var/lib/a/', 'h'));
  });

  it('ignores a kept file that is not a valid id, and says when it cannot write one', () => {
    const dataDir = fresh();
    writeFileSync(join(dataDir, DAEMON_ID_FILE), 'not a subject token!\n');
    expect(resolveDaemonId({ dataDir }, { host: 'h' })).toEqual({ id: derivedDaemonId(dataDir, 'h'), source: 'generated' });
    // unwritable for anyone, root included: a file stands where the data dir's parent should be
    const blocker = join(fresh(), 'a-file');
    writeFileSync(blocker, '');
    const blocked = join(blocker, 'sub');
    expect(resolveDaemonId({ dataDir: blocked }, { host: 'h' })).toEqual({
      id: derivedDaemonId(blocked, 'h'), source: 'generated', warning: `${join(blocked, DAEMON_ID_FILE)} not written (ENOTDIR)`,
    });
  });

  it('does not touch the disk when asked not to (in-memory apps)', () => {
    const dataDir = join(fresh(), 'never');
    expect(resolveDaemonId({ dataDir }, { host: 'h', persist: false })).toEqual({ id: derivedDaemonId(dataDir, 'h'), source: 'generated' });
    expect(() => readFileSync(join(dataDir, DAEMON_ID_FILE))).toThrow();
  });
});
