import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import pg from 'pg';
import type { ExecutionEvent, ExecutionView } from '@anchorflow/engine';
import { pluginStateFor } from '../adapters/pg-plugin-state.adapter.js';
import { PgExecutionStore } from '../adapters/pg-execution-store.adapter.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import { openDatabase } from './open-database.js';

const nodeBin = fileURLToPath(new URL('../../../../node_modules/.bin/node', import.meta.url));
const holder = fileURLToPath(new URL('../testing/fixtures/hold-embedded-database.mjs', import.meta.url));

interface HolderReport {
  executionId: string;
  events: ExecutionEvent[];
  view: ExecutionView;
  postmasterPid: number;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (chunk: Buffer) => { err += chunk.toString(); });
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const newline = out.indexOf('\n');
      if (newline >= 0) resolve(out.slice(0, newline));
    });
    child.once('exit', (code) => reject(new Error(`holder exited (code ${code}) before reporting: ${err}`)));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function postmasterPid(dataDir: string): Promise<number> {
  return Number((await readFile(join(dataDir, 'pg', 'postmaster.pid'), 'utf8')).split('\n')[0]);
}

describe('embedded PostgreSQL', () => {
  it('keeps committed data when the process holding it is SIGKILLed, and starts again on the same data dir', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'af-embedded-'));
    // As root, the holder runs as `nobody`: that covers starting as a normal user (no uid switch),
    // and this process then reopens the cluster as root (running the server as nobody).
    const asRoot = process.getuid?.() === 0;
    const nobody = asRoot
      ? { uid: Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' })) }
      : undefined;
    if (nobody) await chown(dataDir, nobody.uid, nobody.gid);
    try {
      const child = spawn(nodeBin, [holder, dataDir], { ...nobody, stdio: ['ignore', 'pipe', 'pipe'] });
      const report = JSON.parse(await firstLine(child)) as HolderReport;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      // the orphaned server is still running on the data dir
      expect(isAlive(report.postmasterPid)).toBe(true);

      const db = await openDatabase({ dataDir });
      let pid: number | undefined;
      try {
        expect(db.embedded).toBe(true);
        expect(isAlive(report.postmasterPid)).toBe(false);
        pid = await postmasterPid(dataDir);
        expect(pid).not.toBe(report.postmasterPid);

        const store = new PgExecutionStore(db);
        expect(await store.events(report.executionId)).toEqual(report.events);
        expect(await store.get(report.executionId)).toEqual({ ...report.view, nodeRuns: [] });
        expect(await store.unfinished()).toEqual([report.executionId]);
        expect(await pluginStateFor(db, 'crash-test').get('cursor')).toEqual({ block: 123 });

        // loopback TCP only, no unix socket
        // (read as the superuser: the daemon's role may not read unix_socket_directories)
        const superuserUrl = new URL(db.url);
        superuserUrl.username = 'postgres';
        const admin = new pg.Client({ connectionString: superuserUrl.toString() });
        await admin.connect();
        const settings = await admin.query<{ name: string; setting: string }>(
          `SELECT name, setting FROM pg_settings WHERE name IN ('listen_addresses', 'unix_socket_directories') ORDER BY name`).finally(() => admin.end());
        expect(settings.rows).toEqual([{ name: 'listen_addresses', setting: '127.0.0.1' }, { name: 'unix_socket_directories', setting: '' }]);
        expect(new URL(db.url).hostname).toBe('127.0.0.1');
        // issue 17: the daemon's role owns its tables, is no superuser, and cannot switch the audit log's trigger off
        expect(new URL(db.url).username).toBe('anchorflow');
        expect((await db.pool.query(`SELECT rolsuper FROM pg_roles WHERE rolname = current_user`)).rows).toEqual([{ rolsuper: false }]);
        expect((await db.pool.query(`SELECT tableowner FROM pg_tables WHERE tablename = 'audit_entry'`)).rows).toEqual([{ tableowner: 'anchorflow' }]);
        await expect(db.pool.query('ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only_row')).rejects.toMatchObject({ code: '42501', message: expect.stringContaining('anchorflow guard') });
        await expect(db.pool.query('SET session_replication_role = replica')).rejects.toMatchObject({ code: '42501' });
        if (nobody) {
          const status = await readFile(`/proc/${pid}/status`, 'utf8');
          expect(status).toMatch(new RegExp(`^Uid:\\s+${nobody.uid}\\s`, 'm'));
        }
        await store.close();
      } finally {
        await db.close();
      }
      expect(isAlive(pid!)).toBe(false);

      // the server itself killed: a dead pid in postmaster.pid, crash recovery at the next start
      const second = await openDatabase({ dataDir, embeddedPort: await freePort() });
      const killed = await postmasterPid(dataDir);
      try {
        await pluginStateFor(second, 'crash-test').set('cursor', { block: 124 });
        process.kill(killed, 'SIGKILL');
      } finally {
        await second.close();
      }
      const third = await openDatabase({ dataDir });
      try {
        expect(await pluginStateFor(third, 'crash-test').get('cursor')).toEqual({ block: 124 });
        expect(await new PgExecutionStore(third).get(report.executionId)).toEqual({ ...report.view, nodeRuns: [] });
      } finally {
        await third.close();
      }

      // a configured port still taken at start: retried until it is free
      const port = await freePort();
      const blocker = createServer().listen(port, '127.0.0.1');
      const warnings: string[] = [];
      const server = await startEmbeddedPostgres({
        dataDir, port,
        logger: { info: () => undefined, error: () => undefined, warn: (m) => { warnings.push(m); blocker.close(); } },
      });
      try {
        expect(server.port).toBe(port);
        expect(warnings.some((m) => m.includes('did not start (attempt 1)'))).toBe(true);
      } finally {
        await server.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
