/**
 * The audit tail cannot be cut unseen (issue 17): the daemon seals the head (HMAC with a key outside the
 * database) into its data directory; deleting the newest entries as a database superuser, or forging the
 * head file, makes `anchorflow audit verify` fail; `--expect-head` checks a head recorded elsewhere.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Api } from './support/api.js';
import { cliEnvFor, eventually, runCli, sql } from './support/cli.js';
import { startDaemon, type Daemon } from './support/daemon.js';
import { manual, node, chain, uid, workflow } from './support/graph.js';

let daemon: Daemon;

beforeAll(async () => {
  daemon = await startDaemon({ name: 'audit-tail' });
  const api = new Api(daemon.url);
  for (let i = 0; i < 3; i++) await api.createWorkflow(workflow(`audit ${uid()}`, [manual(), node('n', 'core.noop')], chain('start', 'n')));
  const head = (await api.get('/api/v1/audit/head')).body.head as { seq: number };
  // the sealed head catches up with the database after the append commits
  await eventually(async () => {
    try {
      const sealed = JSON.parse(readFileSync(path.join(daemon.dataDir, 'audit-head.json'), 'utf8')) as { seq: number };
      return sealed.seq >= head.seq ? sealed : undefined;
    } catch {
      return undefined;
    }
  }, { what: 'the sealed audit head' });
  await daemon.stop();
}, 120_000);

afterAll(async () => {
  await daemon?.stop().catch(() => undefined);
});

const verify = (...args: string[]) => runCli(['audit', 'verify', ...args], { env: cliEnvFor(daemon) });
const headFile = () => path.join(daemon.dataDir, 'audit-head.json');

describe('the sealed audit head', () => {
  it('verifies the untouched log against the sealed head and --expect-head', async () => {
    const sealed = JSON.parse(readFileSync(headFile(), 'utf8')) as { seq: number; hash: string };
    const ok = await verify('--expect-head', `${sealed.seq}:${sealed.hash}`);
    expect({ code: ok.code, stderr: ok.stderr }).toEqual({ code: 0, stderr: '' });
    expect(ok.stdout).toContain(`the sealed head (audit-head.json, written`);
    expect(ok.stdout).toContain(`--expect-head seq ${sealed.seq} is in the chain`);
  });

  it('a forged head file (moved back, old MAC) is refused', async () => {
    const original = readFileSync(headFile(), 'utf8');
    const sealed = JSON.parse(original) as { seq: number; hash: string; mac: string; at: string };
    try {
      writeFileSync(headFile(), JSON.stringify({ ...sealed, seq: sealed.seq - 1 }));
      const res = await verify();
      expect(res.code).toBe(1);
      expect(res.stdout).toContain('its MAC does not match');
    } finally {
      writeFileSync(headFile(), original);
    }
  });

  it('deleting the newest entries (superuser, triggers off) makes verify fail although the rest of the chain is intact', async () => {
    const sealed = JSON.parse(readFileSync(headFile(), 'utf8')) as { seq: number; hash: string };
    // the cut tail is kept aside and put back afterwards: the other tests (any order) see an untouched log
    const aside = `audit_tail_aside_${uid().replace(/[^a-z0-9]/gi, '')}`;
    await sql(daemon, `CREATE TABLE ${aside} AS SELECT * FROM audit_entry WHERE seq > ${sealed.seq - 2}`);
    await sql(daemon, `BEGIN; SET LOCAL session_replication_role = replica; DELETE FROM audit_entry WHERE seq > ${sealed.seq - 2}; COMMIT;`);
    try {
      const res = await verify();
      expect(res.code).toBe(1);
      expect(res.stdout).toContain(`seq ${sealed.seq} is missing: the log ends at seq ${sealed.seq - 2} (entries were deleted from its tail)`);
      // the same with a head recorded elsewhere
      const expectHead = await verify('--expect-head', `${sealed.seq}:${sealed.hash}`, '--json');
      expect(expectHead.code).toBe(1);
      expect(JSON.parse(expectHead.stdout)).toMatchObject({ ok: false, heads: expect.arrayContaining([expect.stringContaining('--expect-head seq')]) });
    } finally {
      await sql(daemon, `BEGIN; SET LOCAL session_replication_role = replica; INSERT INTO audit_entry SELECT * FROM ${aside}; DROP TABLE ${aside}; COMMIT;`);
    }
    expect((await verify()).code).toBe(0);
  });
});
