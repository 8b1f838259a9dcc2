/**
 * Security (issue 4) against the real daemon:
 * - a route × role matrix generated from the controller metadata: every route the Nest app registers
 *   (enumerated in-process from the same AppModule, cross-checked against the Express router), called on
 *   a running daemon as admin/editor/operator/auditor/viewer (API keys and editor tokens), with no
 *   credentials, a revoked key, an expired key and bad tokens; 401/403 exactly where `can(role,
 *   permission)` says. A route without a declared access fails the test.
 * - revocation and expiry take effect; editor tokens die with their key; the last admin key stays;
 * - credentials: metadata only through the API, values redacted from node outputs and errors;
 * - first-start bootstrap key printed once and never again; the auth rate limit counts before auth;
 * - helmet headers, CORS allow-list;
 * - a full-run grep: no admin key, created key, token, JWT secret, master key or credential value in any
 *   daemon log line or API response (except the one response that creates a key or a token).
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { can, type Role, ROLES, TokenService } from '@anchorflow/security';
import { collectRoutes, type RouteEntry } from '../apps/daemon/src/security/route-table.js';
import { GracefulShutdown } from '../apps/daemon/src/shutdown/graceful-shutdown.service.js';
import { createMemoryApp } from '../apps/daemon/src/testing/memory-app.js';
import { isErrorShape, type Execution, type WorkflowJson } from './support/api.js';
import { startDaemon, type Daemon } from './support/daemon.js';
import { testAdminKey } from './support/e2e-env.js';
import { chain, manual, node, uid, workflow } from './support/graph.js';
import { startHttpReceiver, type HttpReceiver } from './support/http-receiver.js';

const API_KEY_PATTERN = /afk_[0-9a-f]{16}_[A-Za-z0-9_-]{43,}/g;
const NO_ID = '00000000-0000-4000-8000-000000000000';

interface Res {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

/** Every API response of the run, for the final grep; `allowed` lists secrets this one response may show. */
const responses: Array<{ what: string; text: string; allowed: string[] }> = [];

async function call(base: string, method: string, urlPath: string, options: { bearer?: string | null; headers?: Record<string, string>; body?: unknown; allowed?: string[] } = {}): Promise<Res> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (options.bearer) headers.authorization = `Bearer ${options.bearer}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(base + urlPath, { method, headers, body, signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  let json: unknown;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
  responses.push({ what: `${method} ${urlPath}`, text: `${headerLines(res.headers)}\n\n${text}`, allowed: options.allowed ?? [] });
  return { status: res.status, headers: res.headers, text, json };
}

function expectOk(res: Res, status: number, what: string): void {
  if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status} ${res.text.slice(0, 500)}`);
}

function headerLines(headers: Headers): string {
  const lines: string[] = [];
  headers.forEach((value, name) => lines.push(`${name}: ${value}`));
  return lines.join('\n');
}

/** At most `n` at a time. */
async function inParallel<T, R>(items: readonly T[], n: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  }));
  return out;
}

/** A request that reaches the route with harmless arguments: ids that do not exist, empty bodies. */
function concrete(route: RouteEntry): { method: string; path: string; body?: unknown } {
  const method = route.method === 'ALL' ? 'POST' : route.method;
  const p = route.path
    .replace(/\*\w*/g, `matrix/no-such-hook-${uid()}`)
    .replace(/:token\b/g, 'no-such-token')
    .replace(/:\w+/g, NO_ID);
  return { method, path: p, ...(['POST', 'PUT', 'PATCH'].includes(method) ? { body: {} } : {}) };
}

interface Identity {
  name: string;
  kind: 'key' | 'token' | 'none' | 'revoked-key' | 'expired-key' | 'bad-token';
  /** for keys and tokens */
  role?: Role;
  bearer?: string;
  headers?: Record<string, string>;
}

/** What the matrix expects: `deny401`, `deny403`, or `pass` (anything but 401/403). */
function expected(route: RouteEntry, who: Identity): 'pass' | 'deny401' | 'deny403' {
  const access = route.access!;
  if (access.kind === 'public') return 'pass';
  if (who.kind !== 'key' && who.kind !== 'token') return 'deny401';
  if (access.kind === 'api-key') return who.kind === 'key' ? 'pass' : 'deny403';
  return can(who.role!, access.permission) ? 'pass' : 'deny403';
}

let routes: RouteEntry[] = [];
let registered: Array<{ method: string; path: string }> = [];
let receiver: HttpReceiver;
let daemon: Daemon;
let base: string;
const admin = testAdminKey();
/** role → key secret */
const keys = new Map<Role, string>();
const tokens = new Map<Role, string>();
/** every key secret and token created in the run (for the grep) */
const createdSecrets: string[] = [];
const credentialValues: string[] = [];
const stoppedLogs: Array<{ name: string; logs: string; secrets: string[] }> = [];

async function createKey(name: string, role: Role, expiresAt?: Date): Promise<{ id: string; secret: string }> {
  // the response that creates a key is the one place its secret may appear
  const res = await call(base, 'POST', '/api/v1/keys', { bearer: admin, body: { name, role, ...(expiresAt ? { expiresAt: expiresAt.toISOString() } : {}) } });
  expectOk(res, 201, `create ${role} key`);
  responses.at(-1)!.allowed.push(res.json.secret);
  createdSecrets.push(res.json.secret);
  return { id: res.json.id, secret: res.json.secret };
}

async function tokenFor(bearer: string, b = base): Promise<string> {
  const res = await call(b, 'POST', '/api/v1/auth/token', { bearer });
  expectOk(res, 200, 'token');
  responses.at(-1)!.allowed.push(res.json.token);
  createdSecrets.push(res.json.token);
  return res.json.token;
}

function sleepUntil(epochMs: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, epochMs - Date.now())));
}

beforeAll(async () => {
  // the route table: the daemon's own AppModule, in process, read from the controllers' metadata
  const mem = await createMemoryApp();
  const shutdown = mem.app.get(GracefulShutdown, { strict: false });
  try {
    routes = collectRoutes(mem.app);
    const express = mem.app.getHttpAdapter().getInstance() as { router?: { stack: Array<{ route?: { path: string; methods: Record<string, boolean> } }> } };
    // Express's own list of what it serves: a route layer per path and method(s)
    registered = (express.router?.stack ?? []).flatMap((layer) => {
      if (!layer.route) return [];
      const methods = Object.keys(layer.route.methods).filter((m) => m !== '_all');
      return layer.route.methods._all || methods.length > 1
        ? [{ method: 'ALL', path: layer.route.path }]
        : methods.map((m) => ({ method: m.toUpperCase(), path: layer.route!.path }));
    });
  } finally {
    await mem.close();
    // GracefulShutdown arms a process.exit(1) watchdog on close and, as of this writing, never disarms it:
    // in a test process that outlives the app it would kill the jest worker (harmless once it clears it)
    clearTimeout((shutdown as unknown as { watchdog?: NodeJS.Timeout }).watchdog);
  }

  receiver = await startHttpReceiver();
  daemon = await startDaemon({
    name: 'auth',
    env: {
      // the matrix alone calls the token route more often than the default limit allows
      ANCHORFLOW_SECURITY_RATE_LIMIT_AUTH_LIMIT: '5000',
      ANCHORFLOW_SECURITY_CORS_ORIGINS: 'https://editor.example.test',
      ANCHORFLOW_LOG_LEVEL: 'debug',
      // the matrix checks /metrics as a public route: open it (closed by default, see ops.e2e and metrics.memory.spec)
      ANCHORFLOW_METRICS_PUBLIC: 'true',
    },
  });
  base = daemon.url;

  for (const role of ROLES.filter((r) => r !== 'admin')) keys.set(role, (await createKey(`matrix ${role}`, role)).secret);
  keys.set('admin', admin);
  for (const role of ROLES) tokens.set(role, await tokenFor(keys.get(role)!));
}, 180_000);

// The secret grep covers the whole run, so it runs after every test, whatever their order (--randomize):
// a failure here fails the file.
afterAll(async () => {
  try {
    if (daemon) await findNoSecretAnywhere();
  } finally {
    await daemon?.stop();
    await receiver?.close();
  }
}, 60_000);

describe('route × role matrix (generated from the controller metadata)', () => {
  it('every route declares its access, and the table holds every route the router serves', () => {
    expect(routes.length).toBeGreaterThan(15);
    const undeclared = routes.filter((r) => r.access === undefined).map((r) => `${r.method} ${r.path} (${r.controller}.${r.handler})`);
    expect(undeclared).toEqual([]);
    // Nest's own routes vs the table (the Swagger UI and its JSON are mounted outside Nest's router)
    const inTable = new Set(routes.map((r) => `${r.method} ${r.path}`));
    // (layers for every method are Nest's middleware on a path, or an @All route)
    const missing = registered
      .filter((r) => !r.path.startsWith('/api/docs'))
      .filter((r) => (r.method === 'ALL' ? !r.path.endsWith('{/*splat}') && !routes.some((t) => t.path === r.path) : !inTable.has(`${r.method} ${r.path}`)))
      .map((r) => `${r.method} ${r.path}`);
    expect(missing).toEqual([]);
    // the public routes are exactly the ones the issue allows
    const publicRoutes = routes.filter((r) => r.access?.kind === 'public').map((r) => `${r.method} ${r.path}`);
    for (const r of publicRoutes) expect(r).toMatch(/^(GET \/api\/v1\/health(\/ready)?|ALL \/hooks\/\*path|GET \/metrics)$/);
    expect(routes.filter((r) => r.access?.kind === 'api-key').map((r) => `${r.method} ${r.path}`)).toEqual(['POST /api/v1/auth/token']);
  });

  it('answers 401/403 exactly as can(role, permission) says, for keys, tokens and bad credentials', async () => {
    const other = new TokenService({ secret: 'a-different-secret-of-at-least-32-bytes!!' });
    const forged = (await other.issue({ keyId: admin.split('_')[1]!, role: 'admin' })).token;
    const [header, , signature] = tokens.get('viewer')!.split('.');
    const claims = JSON.parse(Buffer.from(tokens.get('viewer')!.split('.')[1]!, 'base64url').toString());
    const escalated = [header, Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url'), signature].join('.');

    // a key that expires soon works while it is valid (made here, so the check always runs: a call that
    // could not be made before the expiry fails the test instead of being skipped)
    const expiresAt = Date.now() + 3000;
    const expiring = await createKey('expires soon', 'admin', new Date(expiresAt));
    expectOk(await call(base, 'GET', '/api/v1/keys', { bearer: expiring.secret }), 200, 'expiring key before expiry');
    expect({ answeredBeforeExpiry: Date.now() < expiresAt }).toEqual({ answeredBeforeExpiry: true });
    const revoked = await createKey('to be revoked', 'admin');
    expectOk(await call(base, 'GET', '/api/v1/keys', { bearer: revoked.secret }), 200, 'revoked key before revocation');
    expectOk(await call(base, 'DELETE', `/api/v1/keys/${revoked.id}`, { bearer: admin }), 200, 'revoke');
    await sleepUntil(expiresAt + 50);
    expect((await call(base, 'GET', '/api/v1/keys', { bearer: expiring.secret })).status).toBe(401);

    const identities: Identity[] = [
      ...ROLES.map((role): Identity => ({ name: `${role} key`, kind: 'key', role, bearer: keys.get(role)! })),
      ...ROLES.map((role): Identity => ({ name: `${role} token`, kind: 'token', role, bearer: tokens.get(role)! })),
      { name: 'editor key as X-Api-Key', kind: 'key', role: 'editor', headers: { 'x-api-key': keys.get('editor')! } },
      { name: 'no credentials', kind: 'none' },
      { name: 'revoked key', kind: 'revoked-key', bearer: revoked.secret },
      { name: 'expired key', kind: 'expired-key', bearer: expiring.secret },
      { name: 'token signed with another secret', kind: 'bad-token', bearer: forged },
      { name: 'token with an escalated role', kind: 'bad-token', bearer: escalated },
      { name: 'garbage bearer', kind: 'bad-token', bearer: 'not-a-key-nor-a-token' },
      { name: 'malformed key', kind: 'bad-token', bearer: `afk_${'0'.repeat(16)}_${'x'.repeat(43)}` },
    ];
    const cases = routes.flatMap((route) => identities.map((who) => ({ route, who })));
    const failures: string[] = [];
    await inParallel(cases, 16, async ({ route, who }) => {
      const req = concrete(route);
      const res = await call(base, req.method, req.path, { bearer: who.bearer, headers: who.headers, body: req.body });
      const want = expected(route, who);
      const ok = want === 'pass' ? res.status !== 401 && res.status !== 403 && res.status < 500 : res.status === (want === 'deny401' ? 401 : 403) && isErrorShape(res.json);
      if (!ok) failures.push(`${req.method} ${req.path} as ${who.name}: expected ${want}, got ${res.status} ${res.text.slice(0, 200)}`);
    });
    expect(failures).toEqual([]);
    // sanity: the matrix saw all three outcomes
    expect(cases.some((c) => expected(c.route, c.who) === 'deny403')).toBe(true);
  }, 120_000);
});

describe('authentication details', () => {
  it('401s carry WWW-Authenticate and one message for every reason; 403 names role and permission', async () => {
    const none = await call(base, 'GET', '/api/v1/workflows');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const gone = await createKey('revoked for the message', 'viewer');
    expectOk(await call(base, 'DELETE', `/api/v1/keys/${gone.id}`, { bearer: admin }), 200, 'revoke');
    const revokedMsg = (await call(base, 'GET', '/api/v1/workflows', { bearer: gone.secret })).json.error;
    const garbageMsg = (await call(base, 'GET', '/api/v1/workflows', { bearer: `afk_${'1'.repeat(16)}_${'y'.repeat(43)}` })).json.error;
    expect(revokedMsg).toEqual(garbageMsg);
    const forbidden = await call(base, 'POST', '/api/v1/workflows', { bearer: keys.get('viewer'), body: {} });
    expect(forbidden.status).toBe(403);
    expect(forbidden.json.error).toMatchObject({ code: 'FORBIDDEN', details: { role: 'viewer', permission: 'workflows:write' } });
  });

  it('revoking a key stops it and its editor tokens at once', async () => {
    const k = await createKey('revoked with a token', 'editor');
    const token = await tokenFor(k.secret);
    expectOk(await call(base, 'GET', '/api/v1/workflows', { bearer: k.secret }), 200, 'key before');
    expectOk(await call(base, 'GET', '/api/v1/workflows', { bearer: token }), 200, 'token before');
    const revoked = await call(base, 'DELETE', `/api/v1/keys/${k.id}`, { bearer: admin });
    expectOk(revoked, 200, 'revoke');
    expect(revoked.json.revokedAt).toEqual(expect.any(String));
    expect((await call(base, 'GET', '/api/v1/workflows', { bearer: k.secret })).status).toBe(401);
    expect((await call(base, 'GET', '/api/v1/workflows', { bearer: token })).status).toBe(401);
    // idempotent; unknown ids are 404
    expectOk(await call(base, 'DELETE', `/api/v1/keys/${k.id}`, { bearer: admin }), 200, 'revoke again');
    expect((await call(base, 'DELETE', '/api/v1/keys/0123456789abcdef', { bearer: admin })).status).toBe(404);
  });

  it('lists keys without secrets or hashes, refuses past expiries, and keeps the last usable admin key', async () => {
    const list = await call(base, 'GET', '/api/v1/keys', { bearer: admin });
    expectOk(list, 200, 'list');
    for (const item of list.json.items) expect(Object.keys(item).sort()).toEqual(['createdAt', 'expiresAt', 'id', 'lastUsedAt', 'name', 'revokedAt', 'role']);
    const adminId = admin.split('_')[1];
    expect(list.json.items.find((k: { id: string }) => k.id === adminId)).toMatchObject({ role: 'admin', revokedAt: null, lastUsedAt: expect.any(String) });
    // every other admin key of this run is revoked here (whichever tests ran before): the run's is the last
    const now = Date.now();
    for (const k of list.json.items as Array<{ id: string; role: string; revokedAt: string | null; expiresAt: string | null }>) {
      const usable = k.role === 'admin' && k.revokedAt === null && (k.expiresAt === null || Date.parse(k.expiresAt) > now);
      if (usable && k.id !== adminId) expectOk(await call(base, 'DELETE', `/api/v1/keys/${k.id}`, { bearer: admin }), 200, `revoke admin key ${k.id}`);
    }
    const past = await call(base, 'POST', '/api/v1/keys', { bearer: admin, body: { name: 'x', role: 'viewer', expiresAt: '2001-01-01T00:00:00Z' } });
    expect(past.status).toBe(400);
    const badRole = await call(base, 'POST', '/api/v1/keys', { bearer: admin, body: { name: 'x', role: 'root' } });
    expect(badRole.status).toBe(400);
    const last = await call(base, 'DELETE', `/api/v1/keys/${adminId}`, { bearer: admin });
    expect(last.status).toBe(409);
    expect(last.json.error.code).toBe('LAST_ADMIN_KEY');
  });

  it('an editor token cannot be exchanged for another token, and carries its key\'s role', async () => {
    expect((await call(base, 'POST', '/api/v1/auth/token', { bearer: tokens.get('admin') })).status).toBe(403);
    const issued = await call(base, 'POST', '/api/v1/auth/token', { bearer: keys.get('operator') });
    responses.at(-1)!.allowed.push(issued.json.token);
    createdSecrets.push(issued.json.token);
    expect(issued.json).toEqual({ token: expect.any(String), expiresAt: expect.any(String), role: 'operator' });
    expect(Date.parse(issued.json.expiresAt) - Date.now()).toBeGreaterThan(800_000);
  });
});

describe('credentials vault', () => {
  const secretA = `pw-${uid()}${uid()}${uid()}`;
  const secretB = `tok-${uid()}${uid()}${uid()}`;
  const secretC = `rotated-${uid()}${uid()}${uid()}`;
  let id: string;

  it('stores data encrypted and shows only metadata', async () => {
    credentialValues.push(secretA, secretB, secretC);
    const name = `smtp ${uid()}`;
    const created = await call(base, 'POST', '/api/v1/credentials', { bearer: admin, body: { type: 'mail-login', name, data: { user: 'mailer', password: secretA, nested: { apiToken: secretB } } } });
    expectOk(created, 201, 'create credential');
    expect(Object.keys(created.json).sort()).toEqual(['createdAt', 'id', 'name', 'scopes', 'type', 'updatedAt']);
    id = created.json.id;
    expect((await call(base, 'POST', '/api/v1/credentials', { bearer: admin, body: { type: 'mail-login', name, data: {} } })).status).toBe(409);
    expect((await call(base, 'POST', '/api/v1/credentials', { bearer: admin, body: { type: 'mail-login', name: 'n', data: 'secret' } })).status).toBe(400);

    const one = await call(base, 'GET', `/api/v1/credentials/${id}`, { bearer: keys.get('editor') });
    expectOk(one, 200, 'get credential');
    expect(one.json).toEqual(created.json);
    const list = await call(base, 'GET', '/api/v1/credentials', { bearer: keys.get('editor') });
    expect(list.json.items).toContainEqual(created.json);

    const updated = await call(base, 'PUT', `/api/v1/credentials/${id}`, { bearer: admin, body: { data: { password: secretC } } });
    expectOk(updated, 200, 'update credential');
    expect(updated.json).toMatchObject({ id, name, type: 'mail-login' });

    if (daemon.databaseUrl) {
      const rows = await sql(daemon.databaseUrl, 'SELECT * FROM credential');
      const dump = JSON.stringify(rows);
      expect(dump).toContain(id);
      for (const s of [secretA, secretB, secretC, 'mailer']) expect(dump).not.toContain(s);
    }
    const scratch = await call(base, 'POST', '/api/v1/credentials', { bearer: admin, body: { type: 'scratch', name: `scratch ${uid()}`, data: { k: 'v' } } });
    expectOk(await call(base, 'DELETE', `/api/v1/credentials/${scratch.json.id}`, { bearer: admin }), 204, 'delete');
    expect((await call(base, 'GET', `/api/v1/credentials/${scratch.json.id}`, { bearer: admin })).status).toBe(404);
  });

  it('redacts credential values from node outputs and node errors, in the execution that resolved the credential', async () => {
    // its own credential (stored, then rotated): only the value the execution resolves is redacted there (issue 17)
    const [valueA, rotated] = [`pw-${uid()}${uid()}${uid()}`, `rotated-${uid()}${uid()}${uid()}`];
    credentialValues.push(valueA, rotated);
    const cred = await call(base, 'POST', '/api/v1/credentials', { bearer: admin, body: { type: 'hmac-secret', name: `redact ${uid()}`, data: { secret: valueA } } });
    expectOk(cred, 201, 'create credential');
    expectOk(await call(base, 'PUT', `/api/v1/credentials/${cred.json.id}`, { bearer: admin, body: { data: { secret: rotated } } }), 200, 'rotate credential');
    receiver.on('/signed', { status: 200, body: {} });
    receiver.on('/echo', { status: 200, body: { echoed: rotated, note: `before ${rotated} after`, basic: Buffer.from(`user:${rotated}`).toString('base64'), plain: 'visible' } });
    receiver.on('/fail', { status: 400, body: { problem: `rejected ${rotated}` } });
    const wf: WorkflowJson = workflow(`echo ${uid()}`, [
      manual(),
      // resolves the credential in this execution (signs its POST with it)
      node('sign', 'notify.webhook', { url: `${receiver.url}/signed`, credential: cred.json.name, body: {} }),
      node('echo', 'core.http', { method: 'GET', url: `${receiver.url}/echo` }),
      node('fail', 'core.http', { method: 'GET', url: `${receiver.url}/fail` }, { retry: { maxAttempts: 1 } }),
    ], chain('start', 'sign', 'echo', 'fail'));
    const created = await call(base, 'POST', '/api/v1/workflows', { bearer: keys.get('editor'), body: wf });
    expectOk(created, 201, 'create workflow');
    const run = await call(base, 'POST', `/api/v1/workflows/${created.json.id}/executions?wait=15000`, { bearer: keys.get('operator'), body: { input: {} } });
    expectOk(run, 200, 'run');
    const execution = run.json as Execution;
    expect(execution.status).toBe('failed');
    const echo = execution.nodeRuns.find((r) => r.nodeId === 'echo')!;
    const body = (echo.output as any).main.body;
    expect(body).toMatchObject({ echoed: '[REDACTED]', note: 'before [REDACTED] after', plain: 'visible' });
    // the base64 copy (inside user:secret) is redacted too
    expect(Buffer.from(body.basic, 'base64').toString()).not.toContain(rotated);
    const fail = execution.nodeRuns.find((r) => r.nodeId === 'fail')!;
    expect(fail.error).toMatchObject({ code: 'HTTP_4XX', retryable: false });
    expect(JSON.stringify(fail.error)).toContain('rejected [REDACTED]');
    const events = await call(base, 'GET', `/api/v1/executions/${execution.id}/events`, { bearer: keys.get('auditor') });
    expectOk(events, 200, 'events');
    for (const s of [valueA, rotated]) expect(events.text).not.toContain(s);
  }, 60_000);
});

describe('headers', () => {
  it('sends helmet headers and CORS only for the allowed origin', async () => {
    const res = await call(base, 'GET', '/api/v1/health');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toEqual(expect.any(String));
    expect(res.headers.get('x-powered-by')).toBeNull();
    // the OpenAPI document needs no credentials (it describes the auth schemes)
    const docs = await call(base, 'GET', '/api/docs/openapi.json');
    expect(docs.status).toBe(200);
    expect(Object.keys(docs.json.components.securitySchemes).sort()).toEqual(['api-key', 'bearer', 'metrics-token']);
    const allowed = await call(base, 'OPTIONS', '/api/v1/workflows', { headers: { origin: 'https://editor.example.test', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://editor.example.test');
    const other = await call(base, 'OPTIONS', '/api/v1/workflows', { headers: { origin: 'https://evil.example.test', 'access-control-request-method': 'POST' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('first start', () => {
  it('prints one admin key once, never again; the auth rate limit counts before authentication', async () => {
    const first = await startDaemon({ name: 'bootstrap', env: { ANCHORFLOW_ADMIN_KEY: undefined, ANCHORFLOW_SECURITY_RATE_LIMIT_AUTH_LIMIT: '3' } });
    let second: Daemon | undefined;
    try {
      const printed = first.logs().match(API_KEY_PATTERN) ?? [];
      expect(printed).toHaveLength(1);
      const key = printed[0]!;
      createdSecrets.push(key);
      // only on stderr, as a banner: never inside a JSON log line
      for (const line of first.logs().split('\n')) if (line.includes(key)) expect(line.trim().startsWith('{')).toBe(false);
      expectOk(await call(first.url, 'GET', '/api/v1/keys', { bearer: key }), 200, 'bootstrap key');
      expect((await call(first.url, 'GET', '/api/v1/keys', { bearer: admin })).status).toBe(401);
      const secret = `boot-${uid()}${uid()}${uid()}`;
      credentialValues.push(secret);
      expectOk(await call(first.url, 'POST', '/api/v1/credentials', { bearer: key, body: { type: 'hmac-secret', name: 'boot', data: { secret } } }), 201, 'credential');
      await first.stop();
      stoppedLogs.push({ name: 'bootstrap (first start)', logs: first.logs(), secrets: keyFileSecrets(first.dataDir) });

      second = await startDaemon({ name: 'bootstrap-again', dataDir: first.dataDir, databaseUrl: first.databaseUrl ?? null, env: { ANCHORFLOW_ADMIN_KEY: undefined, ANCHORFLOW_SECURITY_RATE_LIMIT_AUTH_LIMIT: '3' } });
      expect(second.logs().match(API_KEY_PATTERN)).toBeNull();
      expectOk(await call(second.url, 'GET', '/api/v1/keys', { bearer: key }), 200, 'bootstrap key after restart');
      expect((await call(second.url, 'GET', '/api/v1/keys', { bearer: key })).json.items).toHaveLength(1);

      // a credential stored before the restart is redacted in an execution that resolves it after the restart
      receiver.on('/boot-echo', { status: 200, body: { leaked: secret } });
      receiver.on('/boot-signed', { status: 200, body: {} });
      const wf = await call(second.url, 'POST', '/api/v1/workflows', { bearer: key, body: workflow(`boot ${uid()}`, [
        manual(),
        node('sign', 'notify.webhook', { url: `${receiver.url}/boot-signed`, credential: 'boot', body: {} }),
        node('echo', 'core.http', { method: 'GET', url: `${receiver.url}/boot-echo` }),
      ], chain('start', 'sign', 'echo')) });
      const run = await call(second.url, 'POST', `/api/v1/workflows/${wf.json.id}/executions?wait=15000`, { bearer: key, body: {} });
      expectOk(run, 200, 'run after restart');
      expect(run.json.nodeRuns.find((r: { nodeId: string }) => r.nodeId === 'echo').output.main.body).toEqual({ leaked: '[REDACTED]' });

      // 3 per minute: failed attempts count, and the 4th is refused before its key is even looked at
      await tokenFor(key, second.url);
      expect((await call(second.url, 'POST', '/api/v1/auth/token', { bearer: 'wrong' })).status).toBe(401);
      expect((await call(second.url, 'POST', '/api/v1/auth/token')).status).toBe(401);
      const limited = await call(second.url, 'POST', '/api/v1/auth/token', { bearer: key });
      expect(limited.status).toBe(429);
      expect(limited.json.error.code).toBe('TOO_MANY_REQUESTS');
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      // other routes are not limited
      expectOk(await call(second.url, 'GET', '/api/v1/keys', { bearer: key }), 200, 'not limited');
    } finally {
      if (second) {
        await second.stop();
        stoppedLogs.push({ name: 'bootstrap (second start)', logs: second.logs(), secrets: keyFileSecrets(second.dataDir) });
      } else if (!first.hasExited()) {
        await first.stop();
      }
    }
  }, 180_000);
});

/** The JWT secret and the master key a daemon generated in its data dir (both 0600), in the forms they could leak in. */
function keyFileSecrets(dataDir: string): string[] {
  const out: string[] = [];
  for (const file of ['jwt.secret', 'master.key']) {
    const p = path.join(dataDir, file);
    expect(statSync(p).mode & 0o777).toBe(0o600);
    const text = readFileSync(p, 'utf8').trim();
    out.push(text);
    if (file === 'master.key') out.push(Buffer.from(text, 'base64').toString('hex'), Buffer.from(text, 'base64').toString('base64url'));
  }
  return out;
}

async function sql(url: string, query: string): Promise<unknown[]> {
  const specifier = 'pg';
  const mod = (await import(specifier)) as { default?: { Client: new (o: object) => PgClient }; Client?: new (o: object) => PgClient };
  const Client = mod.Client ?? mod.default!.Client;
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(query)).rows;
  } finally {
    await client.end();
  }
}

interface PgClient {
  connect(): Promise<void>;
  query(q: string): Promise<{ rows: unknown[] }>;
  end(): Promise<void>;
}

/** No secret of the run in any log line or API response where it may not be (called by afterAll). */
async function findNoSecretAnywhere(): Promise<void> {
  {
    await daemon.stop();
    stoppedLogs.push({ name: 'auth', logs: daemon.logs(), secrets: keyFileSecrets(daemon.dataDir) });
    const everyKeyAndToken = [admin, ...createdSecrets];
    const leaks: string[] = [];
    for (const { name, logs, secrets } of stoppedLogs) {
      expect(logs.length).toBeGreaterThan(1000);
      for (const s of [...everyKeyAndToken, ...credentialValues, ...secrets]) {
        if (!logs.includes(s)) continue;
        // the bootstrap key is printed once, as the banner, by the first start: asserted above
        if (name === 'bootstrap (first start)' && (logs.match(API_KEY_PATTERN) ?? ([] as string[])).includes(s) && logs.split(s).length === 2) continue;
        leaks.push(`${name} log contains ${s.slice(0, 12)}…`);
      }
    }
    const allSecrets = [...everyKeyAndToken, ...credentialValues, ...stoppedLogs.flatMap((l) => l.secrets)];
    for (const r of responses) {
      for (const s of allSecrets) if (r.text.includes(s) && !r.allowed.includes(s)) leaks.push(`response to ${r.what} contains ${s.slice(0, 12)}…`);
    }
    expect(responses.length).toBeGreaterThan(300);
    expect(leaks).toEqual([]);
    // the debug log did record authentication failures, by reason, without the credentials
    expect(stoppedLogs.find((l) => l.name === 'auth')!.logs).toMatch(/"event":"auth\.failed","reason":"API_KEY_REVOKED"/);
  }
}
