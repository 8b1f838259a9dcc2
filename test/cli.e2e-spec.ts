/**
 * The `anchorflow` CLI end to end: the built apps/daemon/dist/cli/main.js spawned on Node 24, against a
 * real daemon (REST commands) and its real database (migrate, keys, audit verify), with the exit codes
 * its --help documents.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { adminKey, AuthedApi, CLI_MAIN, cliEnvFor, eventually, runCli, sql } from './support/cli.js';
import { NODE_BIN, REPO_ROOT, startDaemon, type Daemon } from './support/daemon.js';
import { currentRun, dbPrefix } from './support/e2e-env.js';
import { chain, manual, node, uid, workflow } from './support/graph.js';
import { createDatabase } from './support/pg-admin.js';

const ADMIN = adminKey();
let daemon: Daemon;
let api: AuthedApi;
let dir: string;

beforeAll(async () => {
  daemon = await startDaemon({ name: 'cli', env: { ANCHORFLOW_ADMIN_KEY: ADMIN } });
  api = new AuthedApi(daemon.url, ADMIN);
  dir = freshDir('cli-files-');
});

afterAll(async () => {
  await daemon?.stop().catch(() => daemon.kill());
});

/** the CLI's environment for the daemon; `null`: no API key */
/** a fresh dir the unprivileged account embedded Postgres runs as (when we are root) can enter */
function freshDir(prefix: string): string {
  const made = mkdtempSync(path.join(currentRun().runDir, prefix));
  chmodSync(made, 0o755);
  return made;
}

const env = (key: string | null = ADMIN) => cliEnvFor(daemon, key ?? undefined);

function writeJson(name: string, value: unknown): string {
  const file = path.join(dir, name);
  writeFileSync(file, JSON.stringify(value, null, 2));
  return file;
}

describe('help and usage', () => {
  it('documents every command and the exit codes', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['start', 'worker', 'migrate', 'workflow', 'keys', 'credentials', 'audit', 'proof', 'config', 'db']) expect(help.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    for (const code of ['0', '1', '2', '3', '69', '77', '78']) expect(help.stdout).toMatch(new RegExp(`^  ${code} +\\S`, 'm'));
    const sub = await runCli(['workflow', 'run', '--help']);
    expect(sub.stdout).toContain('--wait <ms>');
  });

  it('prints the one-time database grant (issue 17) without a database', async () => {
    const out = await runCli(['db', 'grant-sql', '--role', 'af_daemon', '--database', 'af_db']);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('ALTER ROLE "af_daemon" LOGIN NOSUPERUSER');
    expect(out.stdout).toContain('ALTER DATABASE "af_db" OWNER TO "af_daemon"');
    expect(out.stdout).toContain('CREATE EVENT TRIGGER anchorflow_guard_ddl');
  });

  it('exits 2 on usage errors, also for a proof file that cannot be read', async () => {
    expect((await runCli(['frobnicate'])).code).toBe(2);
    expect((await runCli(['keys', 'create', '--role', 'admin'])).code).toBe(2);
    // a proof file that cannot be read is a usage error, named
    const proof = await runCli(['proof', 'verify', 'some.proof.json']);
    expect(proof.code).toBe(2);
    expect(proof.stderr).toContain('cannot read proof file some.proof.json');
  });
});

describe('config check', () => {
  it('prints OK (exit 0), or every problem (exit 78), as the daemon would', async () => {
    const ok = await runCli(['config', 'check', '--print'], { env: { DATABASE_URL: 'postgres://u:hunter2secret@db/x', ANCHORFLOW_METRICS_TOKEN: 'metrics-token-abcdef0123456' } });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('configuration OK');
    expect(ok.stdout).not.toContain('hunter2secret');
    expect(ok.stdout).not.toContain('metrics-token-abcdef0123456');
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(file, 'http:\n  prot: 1\nretention:\n  maxAgeDays: 0\n');
    const bad = await runCli(['config', 'check'], { env: { ANCHORFLOW_CONFIG: file, ANCHORFLOW_HTTP_PORT: '99999', ANCHORFLOW_SHUTDOWN_TIMEOUT_MS: 'soon' } });
    expect(bad.code).toBe(78);
    for (const problem of ['http.port = 99999', 'http.prot', 'retention.maxAgeDays = 0', 'shutdown.timeoutMs = "soon"']) expect(bad.stderr).toContain(problem);
  });
});

describe('migrate', () => {
  it('applies the migrations to an empty database, then finds nothing to do', async () => {
    const run = currentRun();
    const target: Record<string, string | undefined> = run.dbMode === 'external' && run.serverUrl
      ? { DATABASE_URL: await createDatabase(run.serverUrl, `${dbPrefix(run.runId)}_${uid()}`) }
      : { ANCHORFLOW_DATA_DIR: freshDir('cli-migrate-') };
    const first = await runCli(['migrate'], { env: target, timeoutMs: 120_000 });
    expect({ code: first.code, stderr: first.stderr }).toEqual({ code: 0, stderr: '' });
    expect(first.stdout).toMatch(/^applied \d+ migration\(s\): Migration20261122000000_initial, .*Migration20261201000000_audit_log/m);
    const second = await runCli(['migrate'], { env: target, timeoutMs: 120_000 });
    expect(second.stdout.trim()).toBe('database schema is up to date');
  });

  it('works on the database of a running daemon (embedded: through its server, without stopping it)', async () => {
    const result = await runCli(['migrate'], { env: env() });
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe('database schema is up to date');
    expect((await api.get('/api/v1/health/ready')).status).toBe(200);
  });
});

describe('workflow import | export | run (over the REST API)', () => {
  const definition = workflow('cli double', [manual(), node('double', 'core.set', { fields: { doubled: '=n * 2' } })], chain('start', 'double'));

  it('imports a file, exports it back importable, runs it by id and by file', async () => {
    const imported = await runCli(['workflow', 'import', writeJson('double.workflow.json', definition)], { env: env() });
    expect(imported.code).toBe(0);
    const { id, version } = JSON.parse(imported.stdout) as { id: string; version: number };
    expect(version).toBe(1);
    expect((await api.getWorkflow(id)).name).toBe('cli double');

    const out = path.join(dir, 'exported.json');
    const exported = await runCli(['workflow', 'export', id, '--out', out], { env: env() });
    expect(exported.code).toBe(0);
    const file = JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>;
    expect(file).toMatchObject(definition);
    expect(file.id).toBeUndefined();
    // `--version` after the command is the export's own option, not the program's (it used to print 0.1.0)
    const v2 = { ...definition, name: 'cli double v2' };
    expect((await api.request('PUT', `/api/v1/workflows/${id}`, { ...v2, version: 1 })).status).toBe(200);
    const first = await runCli(['workflow', 'export', id, '--version', '1'], { env: env() });
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ name: 'cli double' });
    const latest = await runCli(['workflow', 'export', id], { env: env() });
    expect(JSON.parse(latest.stdout)).toMatchObject({ name: 'cli double v2' });
    expect((await runCli(['--version'])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);

    const again = await runCli(['workflow', 'import', out], { env: env() });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).id).not.toBe(id);

    const byId = await runCli(['workflow', 'run', id, '--input', '{"n":21}', '--wait', '10000'], { env: env() });
    expect(byId.code).toBe(0);
    expect(JSON.parse(byId.stdout)).toMatchObject({ status: 'succeeded', output: { double: { doubled: 42 } } });
    const byFile = await runCli(['workflow', 'run', out, '--input', '{"n":2}', '--wait', '10000'], { env: env() });
    expect(byFile.code).toBe(0);
    expect(JSON.parse(byFile.stdout)).toMatchObject({ status: 'succeeded', output: { double: { doubled: 4 } } });
    const started = await runCli(['workflow', 'run', id, '--input', '{"n":1}'], { env: env() });
    expect(started.code).toBe(0);
    const ref = JSON.parse(started.stdout) as { id: string };
    expect(ref).toEqual({ id: expect.any(String), executionId: ref.id, status: expect.any(String) });
  });

  it('exit 1 for a failed execution, 3 when --wait ends first, 1 for API errors, 77 without a valid key, 69 without a daemon', async () => {
    const failing = await api.createWorkflow(workflow('cli fails', [manual(), node('bad', 'core.http', { method: 'POST', url: 'http://127.0.0.1:9/nothing', body: {} }, { retry: { maxAttempts: 1 } })], chain('start', 'bad')));
    const failed = await runCli(['workflow', 'run', failing.id, '--wait', '10000'], { env: env() });
    expect({ code: failed.code, status: JSON.parse(failed.stdout).status }).toEqual({ code: 1, status: 'failed' });

    const slow = await api.createWorkflow(workflow('cli slow', [manual(), node('pause', 'core.wait', { ms: 60_000 })], chain('start', 'pause')));
    const notYet = await runCli(['workflow', 'run', slow.id, '--wait', '300'], { env: env() });
    expect(notYet.code).toBe(3);
    expect(JSON.parse(notYet.stdout)).toMatchObject({ executionId: expect.any(String) });

    const invalid = await runCli(['workflow', 'import', writeJson('invalid.json', { name: 'x', nodes: [{ id: 'a', type: 'nope.nothing' }], edges: [] })], { env: env() });
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('VALIDATION_FAILED');
    expect((await runCli(['workflow', 'export', '00000000-0000-4000-8000-000000000000'], { env: env() })).code).toBe(1);
    const noKey = await runCli(['workflow', 'export', slow.id], { env: env(null) });
    expect(noKey.code).toBe(77);
    expect(noKey.stderr).toContain('ANCHORFLOW_API_KEY');
    const unreachable = await runCli(['workflow', 'export', slow.id], { env: { ...env(), ANCHORFLOW_URL: 'http://127.0.0.1:9' } });
    expect(unreachable.code).toBe(69);
    expect((await runCli(['workflow', 'run', slow.id, '--input', '{not json'], { env: env() })).code).toBe(2);
  });
});

describe('keys (directly in the database, daemon running)', () => {
  it('creates a key that works at once, lists it without secrets, revokes it (then 401), and audits both', async () => {
    const created = await runCli(['keys', 'create', '--name', 'ci deploy', '--role', 'operator', '--expires', '30d'], { env: env() });
    expect(created.code).toBe(0);
    const key = JSON.parse(created.stdout) as { id: string; secret: string; role: string; expiresAt: string };
    expect(key).toMatchObject({ role: 'operator', secret: expect.stringMatching(/^afk_[0-9a-f]{16}_/) });
    expect(new Date(key.expiresAt).getTime()).toBeGreaterThan(Date.now() + 29 * 86_400_000);
    const asOperator = new AuthedApi(daemon.url, key.secret);
    expect((await asOperator.get('/api/v1/workflows')).status).toBe(200);
    expect((await asOperator.post('/api/v1/workflows', { name: 'x', nodes: [], edges: [] })).status).toBe(403);

    const listed = await runCli(['keys', 'list'], { env: env() });
    expect(listed.code).toBe(0);
    const keys = JSON.parse(listed.stdout) as Array<Record<string, unknown>>;
    expect(keys.find((k) => k.id === key.id)).toMatchObject({ name: 'ci deploy', role: 'operator', revokedAt: null });
    expect(listed.stdout).not.toContain(key.secret);
    expect(listed.stdout).not.toMatch(/"hash"/);

    const revoked = await runCli(['keys', 'revoke', key.id], { env: env() });
    expect(revoked.code).toBe(0);
    await eventually(async () => ((await asOperator.get('/api/v1/workflows')).status === 401 ? true : undefined), { what: 'the revoked key to be refused', timeoutMs: 10_000 });
    expect((await runCli(['keys', 'revoke', 'ffffffffffffffff'], { env: env() })).code).toBe(1);
    expect((await runCli(['keys', 'create', '--name', 'x', '--role', 'superuser'], { env: env() })).code).toBe(2);

    const entries = await sql<{ actor: string; action: string; target: string }>(daemon, `SELECT actor, action, target FROM audit_entry WHERE target = $1 ORDER BY seq`, [`key:${key.id}`]);
    expect(entries.map((e) => [e.actor.startsWith('cli'), e.action])).toEqual([[true, 'keys.create'], [true, 'keys.revoke']]);
    const verify = await runCli(['audit', 'verify'], { env: env() });
    expect(verify.code).toBe(0);
    const json = await runCli(['audit', 'verify', '--json'], { env: env() });
    expect(json.code).toBe(0);
    const result = JSON.parse(json.stdout) as { ok: boolean; count: number; head: { seq: number; hash: string } };
    expect(result).toMatchObject({ ok: true, head: { seq: expect.any(Number), hash: expect.stringMatching(/^[0-9a-f]{64}$/) } });
    // trusting that head, only what follows it is checked
    const after = await runCli(['audit', 'verify', '--json', '--after', `${result.head.seq}:${result.head.hash}`], { env: env() });
    expect(after.code).toBe(0);
    expect((JSON.parse(after.stdout) as { count: number }).count).toBeLessThan(result.count);
    expect((await runCli(['audit', 'verify', '--after', 'nonsense'], { env: env() })).code).toBe(2);
  });
});

describe('credentials rotate-master-key', () => {
  it('re-encrypts every credential under a new key file, keeping the old one aside, and the daemon runs on it', async () => {
    const dataDir = freshDir('cli-rotate-');
    const first = await startDaemon({ name: 'cli-rotate', dataDir, env: { ANCHORFLOW_ADMIN_KEY: ADMIN } });
    const rotApi = new AuthedApi(first.url, ADMIN);
    const created = await rotApi.post('/api/v1/credentials', { type: 'mail-login', name: `mail-${uid()}`, data: { password: 'rotate-me-please-123' } });
    expect(created.status).toBe(201);
    await first.stop();
    const oldKeyText = readFileSync(path.join(dataDir, 'master.key'), 'utf8').trim();

    const rotated = await runCli(['credentials', 'rotate-master-key'], { env: cliEnvFor(first) });
    expect({ code: rotated.code, stderr: rotated.stderr }).toMatchObject({ code: 0, stderr: expect.stringContaining('re-encrypted 1 credential(s)') });
    const newKeyText = readFileSync(path.join(dataDir, 'master.key'), 'utf8').trim();
    expect(newKeyText).not.toBe(oldKeyText);
    expect(readFileSync(path.join(dataDir, 'master.key.old'), 'utf8').trim()).toBe(oldKeyText);

    const { Vault, parseMasterKey } = await import('@anchorflow/security');
    const rows = await sql<{ id: string; type: string; kid: string; iv: string; tag: string; ciphertext: string }>(first, 'SELECT id, type, kid, iv, tag, ciphertext FROM credential');
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    const record = { kid: row.kid, iv: row.iv, tag: row.tag, ciphertext: row.ciphertext };
    expect(new Vault(parseMasterKey(newKeyText)).decrypt(record as never, { id: row.id, type: row.type })).toEqual({ password: 'rotate-me-please-123' });
    expect(() => new Vault(parseMasterKey(oldKeyText)).decrypt(record as never, { id: row.id, type: row.type })).toThrow();

    const again = await startDaemon({ name: 'cli-rotate', dataDir, env: { ANCHORFLOW_ADMIN_KEY: ADMIN } });
    try {
      const listed = await new AuthedApi(again.url, ADMIN).get('/api/v1/credentials');
      expect(listed.status).toBe(200);
    } finally {
      await again.stop();
    }
  });
});

describe('start and worker', () => {
  it('`anchorflow start` runs the daemon, which stops cleanly on SIGTERM', async () => {
    const run = currentRun();
    const dataDir = freshDir('cli-start-');
    const childEnv: Record<string, string | undefined> = { ...process.env, PORT: '0', HOST: '127.0.0.1', ANCHORFLOW_DATA_DIR: dataDir, ANCHORFLOW_ADMIN_KEY: ADMIN, NODE_OPTIONS: undefined, DATABASE_URL: undefined };
    for (const k of Object.keys(childEnv)) if (k.startsWith('AF_E2E_') || (k.startsWith('ANCHORFLOW_') && !['ANCHORFLOW_DATA_DIR', 'ANCHORFLOW_ADMIN_KEY'].includes(k))) delete childEnv[k];
    if (run.dbMode === 'external' && run.serverUrl) childEnv.DATABASE_URL = await createDatabase(run.serverUrl, `${dbPrefix(run.runId)}_${uid()}`);
    const child = spawn(NODE_BIN, [CLI_MAIN, 'start'], { cwd: REPO_ROOT, env: childEnv as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no listening line:\n${output}`)), 90_000);
        child.stderr.setEncoding('utf8').on('data', (c: string) => { output += c; });
        child.stdout.setEncoding('utf8').on('data', (c: string) => {
          output += c;
          const match = /"event":"listening","url":"([^"]+)"/.exec(output);
          if (match) { clearTimeout(timer); resolve(match[1]!); }
        });
        void exited.then(() => reject(new Error(`exited before listening:\n${output}`)));
      });
      expect((await fetch(`${url}/api/v1/health`)).status).toBe(200);
      child.kill('SIGTERM');
      expect(await exited).toEqual({ code: 0, signal: null });
      expect(output).toContain('"event":"shutdown.drained"');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('`anchorflow worker` runs the plugin worker (which insists on NATS_URL)', async () => {
    const result = await runCli(['worker'], { env: { NATS_URL: undefined } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('NATS_URL is required');
  });
});
