import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';

/**
 * NATS for tests. Preferred: a private nats-server (JetStream, its own store dir, a free port) so suites
 * are isolated and can restart it. Otherwise the shared server on 127.0.0.1:4222 with a unique subject
 * prefix (no restart). Otherwise the suite is skipped, saying why.
 */
export interface NatsTestServer {
  url: string;
  port: number;
  /** unique subject/stream prefix for this suite */
  prefix: string;
  /** true when this process runs the server (restart possible) */
  own: boolean;
  /** SIGKILL the server and wait until it is gone */
  kill(): Promise<void>;
  /** start it again on the same port and store dir */
  start(): Promise<void>;
  /** stop it for good (own) or delete this prefix's streams (shared) */
  close(): Promise<void>;
}

const CANDIDATES = [process.env.NATS_SERVER_BIN, '/usr/sbin/nats-server', '/usr/local/bin/nats-server', '/usr/bin/nats-server', '/opt/homebrew/bin/nats-server'];

export function natsServerBinary(): string | undefined {
  return CANDIDATES.find((p): p is string => !!p && existsSync(p));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function reachable(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ port, host });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
    s.setTimeout(500, () => (s.destroy(), resolve(false)));
  });
}

export const uniquePrefix = (label: string) => `aft${label.replace(/[^a-z0-9]/gi, '').toLowerCase()}${process.pid}x${Math.random().toString(36).slice(2, 8)}`;

/**
 * Servers of this process and their store dirs, ended when the process exits however the suite ended
 * (a failed beforeAll, an interrupted run): no nats-server process or af-nats-* folder is left behind.
 */
const owned = new Map<string, { child: () => ChildProcess | undefined }>();
let exitHook = false;
function cleanUpOnExit(dir: string, child: () => ChildProcess | undefined): void {
  owned.set(dir, { child });
  if (exitHook) return;
  exitHook = true;
  const cleanUp = (): void => {
    for (const [d, o] of owned) {
      try { o.child()?.kill('SIGKILL'); } catch { /* gone */ }
      rmSync(d, { recursive: true, force: true });
    }
    owned.clear();
  };
  process.once('exit', cleanUp);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => { cleanUp(); process.kill(process.pid, signal); });
  }
}

async function ownServer(bin: string, label: string): Promise<NatsTestServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'af-nats-'));
  let child: ChildProcess | undefined;
  cleanUpOnExit(dir, () => child);
  const start = async () => {
    const c = spawn(bin, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = c;
    await new Promise<void>((resolve, reject) => {
      let log = '';
      const timer = setTimeout(() => reject(new Error(`nats-server did not start within 10 s:\n${log}`)), 10_000);
      c.stderr!.on('data', (d: Buffer) => {
        log += d.toString();
        if (/Server is ready/.test(log)) {
          clearTimeout(timer);
          resolve();
        }
      });
      c.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`nats-server exited with ${code}:\n${log}`));
      });
    });
    c.removeAllListeners('exit');
    c.stderr!.resume();
  };
  const kill = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
  };
  try {
    await start();
  } catch (err) {
    await kill();
    rmSync(dir, { recursive: true, force: true });
    owned.delete(dir);
    throw err;
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    prefix: uniquePrefix(label),
    own: true,
    kill,
    start,
    close: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
      owned.delete(dir);
    },
  };
}

function sharedServer(label: string): NatsTestServer {
  const prefix = uniquePrefix(label);
  const unsupported = async () => {
    throw new Error('the shared NATS server cannot be restarted by tests');
  };
  return {
    url: 'nats://127.0.0.1:4222',
    port: 4222,
    prefix,
    own: false,
    kill: unsupported,
    start: unsupported,
    close: async () => {
      const nc = await connect({ servers: '127.0.0.1:4222' });
      try {
        const jsm = await nc.jetstreamManager();
        // every stream and bucket this test process made (uniquePrefix carries the pid)
        const mine = new RegExp(`^(KV_)?aft[a-z0-9]*${process.pid}x[a-z0-9]+_((jobs|results)_v1|TRIG_[0-9a-f]{16}|WIDE)$`, 'i');
        const names: string[] = [];
        for await (const si of jsm.streams.list()) if (mine.test(si.config.name)) names.push(si.config.name);
        for (const name of names) await jsm.streams.delete(name).catch(() => undefined);
      } finally {
        await nc.close();
      }
    },
  };
}

/**
 * The NATS a suite should use, or why it is skipped. `needsOwnServer`: the suite restarts NATS, which
 * only a private server allows.
 */
export async function natsForTests(label: string, opts: { needsOwnServer?: boolean } = {}): Promise<NatsTestServer | { skip: string }> {
  // ANCHORFLOW_TEST_NATS=shared: use the server on 127.0.0.1:4222 even when nats-server could be started;
  // ANCHORFLOW_TEST_NATS=none: skip the NATS suites
  if (process.env.ANCHORFLOW_TEST_NATS === 'none') return { skip: 'disabled by ANCHORFLOW_TEST_NATS=none' };
  const bin = process.env.ANCHORFLOW_TEST_NATS === 'shared' ? undefined : natsServerBinary();
  if (bin) {
    try {
      return await ownServer(bin, label);
    } catch (err) {
      if (opts.needsOwnServer) return { skip: `could not start ${bin}: ${(err as Error).message}` };
    }
  }
  if (opts.needsOwnServer) return { skip: 'no nats-server binary (looked at $NATS_SERVER_BIN, /usr/sbin, /usr/local/bin, /usr/bin): a NATS restart test needs its own server' };
  if (await reachable(4222)) return sharedServer(label);
  return { skip: 'no NATS: no nats-server binary to start and nothing listening on 127.0.0.1:4222' };
}

/**
 * Prints why a NATS suite does not run (jest shows console output of skipped suites) and notes it for
 * the run's summary (AF_TEST_SKIP_LOG, set by test/setup/services-setup.ts). With
 * ANCHORFLOW_REQUIRE_SERVICES=1 (CI, a machine that has NATS) it throws instead: the suite fails.
 * `deliberate`: a skip the run chose (E2E_DB=embedded), never an error.
 * Kept in step with `noteSkippedSuite` in libs/persistence/src/testing/test-database.ts.
 */
export function reportSkip(suite: string, reason: string, options: { deliberate?: boolean } = {}): void {
  // deliberate: the run chose not to have what the suite needs (E2E_DB=embedded), no service is missing
  if (process.env.ANCHORFLOW_REQUIRE_SERVICES === '1' && !options.deliberate) {
    throw new Error(`${suite} cannot run: ${reason}; ANCHORFLOW_REQUIRE_SERVICES=1 says this machine has NATS: failing instead of skipping`);
  }
  console.warn(`SKIPPED ${suite}: ${reason}`);
  const log = process.env.AF_TEST_SKIP_LOG;
  const file = (globalThis as { expect?: { getState?: () => { testPath?: string } } }).expect?.getState?.().testPath;
  if (log) appendFileSync(log, `${JSON.stringify({ service: 'NATS', suite, reason, pid: process.pid, file })}\n`);
}
