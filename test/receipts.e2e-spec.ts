/**
 * Verifiable execution receipts end to end (issue 13): real daemon processes, a real anvil, the registry
 * deployed by the CLI, receipts downloaded over REST and checked by `anchorflow receipt verify`.
 * - receipts of concurrent executions share one transaction; verify offline and online;
 * - editing one stored event in PostgreSQL → verify names exactly that event; a tampered proof path fails;
 * - the audit log's head is anchored on its own and `audit verify --anchored` proves it; an edited audit
 *   row is named;
 * - SIGKILL between finish and anchoring (hand-off lost) → the receipts still arrive after the restart.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Api } from './support/api.js';
import { startAnvil, type Anvil, ANVIL_KEY_0 } from './support/anvil.js';
import { cliEnvFor, eventually, runCli, sql } from './support/cli.js';
import { REPO_ROOT, startDaemon, type Daemon } from './support/daemon.js';
import { currentRun } from './support/e2e-env.js';
import { chain, manual, node, uid, workflow } from './support/graph.js';

const PLUGIN = path.join(REPO_ROOT, 'plugins/chain-anchor');
const TERMINAL = ['succeeded', 'failed', 'cancelled'] as const;
let anvil: Anvil;
let registry: string;
const daemons: Daemon[] = [];

function configFile(network: Record<string, unknown>, extra = ''): string {
  const dir = mkdtempSync(path.join(currentRun().runDir, 'receipts-config-'));
  const file = path.join(dir, 'anchorflow.yaml');
  const chains = JSON.stringify({ local: { kind: 'evm', rpcUrls: [anvil.url], chainId: 31337, signer: 'anvil-key', confirmations: 1, pollMs: 100, ...network } });
  writeFileSync(file, `plugins:\n  - '${PLUGIN}'\npluginConfig:\n  chain-anchor:\n    chains: ${chains}\n${extra}`);
  return file;
}

async function daemonWith(name: string, network: Record<string, unknown>, options: { reuse?: Daemon; auditEveryMs?: number } = {}): Promise<{ daemon: Daemon; api: Api; config: string }> {
  const config = configFile({ registry, ...network }, `receipts:\n  network: local\naudit:\n  anchorEveryMs: ${options.auditEveryMs ?? 0}\n`);
  const reuse = options.reuse;
  const daemon = await startDaemon({ name, ...(reuse ? { dataDir: reuse.dataDir, databaseUrl: reuse.databaseUrl } : {}), env: { ANCHORFLOW_CONFIG: config } });
  daemons.push(daemon);
  const api = new Api(daemon.url);
  if (!reuse) expect((await api.post('/api/v1/credentials', { type: 'evm-signer', name: 'anvil-key', data: { privateKey: await anvil.fundedKey() } })).status).toBe(201);
  return { daemon, api, config };
}

const invoiceFlow = () => workflow(`receipts ${uid()}`, [manual(), node('price', 'core.set', { fields: { amount: '=$.amount', currency: 'EUR' } }), node('done', 'core.noop')], chain('start', 'price', 'done'));

async function receiptOf(api: Api, id: string): Promise<{ text: string; body: Record<string, unknown> & { proof: { anchor: { txHash: string }; path: Array<{ hash: string }> } } }> {
  return eventually(async () => {
    const res = await api.get(`/api/v1/executions/${id}/receipt`);
    if (res.status === 202) return undefined;
    expect(res.status).toBe(200);
    return { text: res.text, body: JSON.parse(res.text) };
  }, { what: `the receipt of ${id}`, timeoutMs: 60_000, intervalMs: 200 });
}

function files(): { dir: string; put: (name: string, value: unknown) => string } {
  const dir = mkdtempSync(path.join(currentRun().runDir, 'receipt-'));
  return { dir, put: (name, value) => { const f = path.join(dir, name); writeFileSync(f, typeof value === 'string' ? value : JSON.stringify(value)); return f; } };
}

beforeAll(async () => {
  anvil = await startAnvil();
  const deploy = await runCli(['chain', 'deploy-registry', '--network', 'local'], { env: { ANCHORFLOW_CONFIG: configFile({}), ANCHORFLOW_DEPLOYER_KEY: ANVIL_KEY_0 } });
  expect({ code: deploy.code, stderr: deploy.stderr }).toMatchObject({ code: 0 });
  registry = deploy.stdout.trim().toLowerCase();
}, 60_000);

afterEach(async () => {
  await Promise.all(daemons.splice(0).map((d) => (d.hasExited() ? undefined : d.stop().catch(() => d.kill()))));
});

afterAll(async () => {
  await anvil?.stop();
});

describe('execution receipts on a real daemon and anvil', () => {
  it('receipts of finished executions anchor in one transaction and verify offline and online; an edited event or a tampered path is named', async () => {
    const { daemon, api, config } = await daemonWith('receipts-basic', { batchSize: 10_000, maxWaitMs: 1_500 });
    const wf = await api.createWorkflow(invoiceFlow());
    const ids = await Promise.all([100, 200, 300, 400, 500].map((amount) => api.startExecution(wf.id, { amount })));
    const done = await Promise.all(ids.map((id) => api.waitForStatus(id, [...TERMINAL], { timeoutMs: 60_000, intervalMs: 100 })));
    expect(done.map((e) => e.status)).toEqual(ids.map(() => 'succeeded'));

    // the batch waits maxWaitMs for more: asked at once, the receipt is being anchored
    const early = await api.get(`/api/v1/executions/${ids[0]}/receipt`);
    expect(early.status).toBe(202);
    expect(Number(early.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(early.body).toMatchObject({ status: 'anchoring' });

    const receipts = await Promise.all(ids.map((id) => receiptOf(api, id)));
    expect(new Set(receipts.map((r) => r.body.proof.anchor.txHash)).size).toBe(1);
    const exported = await api.get(`/api/v1/executions/${ids[0]}/events?format=receipt`);
    expect(exported.status).toBe(200);
    const history = exported.body as { format: string; items: Array<Record<string, unknown>> };
    expect(history).toMatchObject({ format: 'receipt', v: 1, executionId: ids[0] });
    expect(receipts[0]!.body).toMatchObject({ v: 1, executionId: ids[0], workflowId: wf.id, version: 1, status: 'succeeded', eventCount: history.items.length, historyHead: history.items.at(-1)!.hash });
    // the ordinary history keeps its shape (no hashes)
    expect((await api.get(`/api/v1/executions/${ids[0]}/events`)).body.items[0]).not.toHaveProperty('hash');

    const f = files();
    const receiptFile = f.put('receipt.json', receipts[0]!.text);
    const historyFile = f.put('history.json', exported.text);
    const env = { ANCHORFLOW_CONFIG: config };
    const online = await runCli(['receipt', 'verify', receiptFile, '--history', historyFile], { env });
    expect({ code: online.code, out: online.stdout }).toMatchObject({ code: 0, out: expect.stringContaining('receipt VALID') });
    expect(online.stdout).toContain('ok   anchor-event');
    const offline = await runCli(['receipt', 'verify', receiptFile, '--history', historyFile, '--offline'], { env: {} });
    expect({ code: offline.code, out: offline.stdout }).toMatchObject({ code: 0, out: expect.stringContaining('receipt VALID (offline') });

    // someone with database access edits one stored event: the verifier names exactly that one
    // (the price node's output is the first event that holds the currency; the finish repeats it)
    const edited = history.items.findIndex((e) => JSON.stringify(e).includes('"currency":"EUR"'));
    expect(history.items[edited]).toMatchObject({ type: 'node.succeeded', nodeId: 'price' });
    await sql(daemon, `UPDATE execution_event SET events = replace(events, '"currency":"EUR"', '"currency":"USD"') WHERE execution_id = $1`, [ids[0]]);
    const tamperedHistory = f.put('tampered-history.json', (await api.get(`/api/v1/executions/${ids[0]}/events?format=receipt`)).text);
    const broken = await runCli(['receipt', 'verify', receiptFile, '--history', tamperedHistory, '--offline'], { env: {} });
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain(`receipt INVALID: history: broken at event #${edited + 1} (seq ${history.items[edited]!.seq}, node.succeeded)`);
    // …and the receipt the daemon now serves no longer verifies against the anchored leaf either
    const served = await receiptOf(api, ids[0]!);
    const servedFile = f.put('served.json', served.text);
    const servedCheck = await runCli(['receipt', 'verify', servedFile, '--history', tamperedHistory, '--offline'], { env: {} });
    expect(servedCheck.code).toBe(1);

    // a tampered Merkle path
    const other = receipts[1]!.body;
    const otherHistory = f.put('other-history.json', (await api.get(`/api/v1/executions/${ids[1]}/events?format=receipt`)).text);
    const flip = (h: string) => h.slice(0, -1) + (h.endsWith('0') ? '1' : '0');
    const badPath = f.put('bad-path.json', { ...other, proof: { ...other.proof, path: other.proof.path.map((s, i) => (i === 0 ? { ...s, hash: flip(s.hash) } : s)) } });
    const pathCheck = await runCli(['receipt', 'verify', badPath, '--history', otherHistory, '--offline'], { env: {} });
    expect({ code: pathCheck.code, out: pathCheck.stdout }).toMatchObject({ code: 1, out: expect.stringContaining('receipt INVALID: path:') });
    // a receipt whose status was edited no longer hashes to the anchored leaf
    const badStatus = f.put('bad-status.json', { ...other, status: 'failed' });
    const statusCheck = await runCli(['receipt', 'verify', badStatus, '--history', otherHistory, '--offline'], { env: {} });
    expect({ code: statusCheck.code, out: statusCheck.stdout }).toMatchObject({ code: 1, out: expect.stringContaining('FAIL statement: status') });
    const noHistory = await runCli(['receipt', 'verify', receiptFile], { env: {} });
    expect({ code: noHistory.code, err: noHistory.stderr }).toMatchObject({ code: 2, err: expect.stringContaining('--history') });
  }, 180_000);

  it('404 before the execution ends and for unknown ones; the audit head is anchored on its own and `audit verify --anchored` proves it', async () => {
    const { daemon, api, config } = await daemonWith('receipts-audit', { batchSize: 10_000, maxWaitMs: 200 }, { auditEveryMs: 1_000 });
    const wf = await api.createWorkflow(workflow(`waits ${uid()}`, [manual(), node('pause', 'core.wait', { ms: 3_600_000 })], chain('start', 'pause')));
    const waiting = await api.startExecution(wf.id, {});
    await api.waitForStatus(waiting, ['waiting'], { timeoutMs: 30_000 });
    const notYet = await api.get(`/api/v1/executions/${waiting}/receipt`);
    expect(notYet.status).toBe(404);
    expect(notYet.body.error).toMatchObject({ code: 'RECEIPT_NOT_READY' });
    expect((await api.get('/api/v1/executions/00000000-0000-4000-8000-000000000000/receipt')).status).toBe(404);

    const anchored = await eventually(async () => {
      const rows = await sql<{ key: string }>(daemon, `SELECT key FROM plugin_state WHERE plugin = '@anchorflow/plugin-chain-anchor' AND key LIKE 'audit/%' ORDER BY key DESC LIMIT 1`);
      return rows[0] ? Number(rows[0].key.slice('audit/'.length)) : undefined;
    }, { what: 'an anchored audit head', timeoutMs: 60_000, intervalMs: 250 });
    const env = { ...cliEnvFor(daemon), ANCHORFLOW_CONFIG: config };
    const ok = await runCli(['audit', 'verify', '--anchored'], { env });
    expect({ code: ok.code, out: ok.stdout }).toMatchObject({ code: 0, out: expect.stringContaining(`anchored up to seq ${anchored}`) });
    expect(ok.stdout).toContain('ok   anchor confirmations');

    // an edited audit row (the table refuses updates: an admin switches its trigger off first) is named
    await sql(daemon, `ALTER TABLE audit_entry DISABLE TRIGGER USER; UPDATE audit_entry SET actor = 'someone-else' WHERE seq = 2; ALTER TABLE audit_entry ENABLE TRIGGER USER`);
    const broken = await runCli(['audit', 'verify', '--anchored', '--offline'], { env });
    expect({ code: broken.code, out: broken.stdout }).toMatchObject({ code: 1, out: expect.stringContaining('audit log BROKEN at seq 2') });
  }, 180_000);

  it('SIGKILL between finish and anchoring, the hand-off lost: after the restart every receipt still arrives', async () => {
    // a batch that never closes: the receipts stay pending until the kill
    const { daemon, api } = await daemonWith('receipts-kill', { batchSize: 10_000, maxWaitMs: 3_600_000 });
    const wf = await api.createWorkflow(invoiceFlow());
    const ids = await Promise.all(Array.from({ length: 8 }, (_, i) => api.startExecution(wf.id, { amount: i })));
    for (const id of ids) await api.waitForStatus(id, [...TERMINAL], { timeoutMs: 60_000, intervalMs: 100 });
    await eventually(async () => ((await sql<{ n: number }>(daemon, `SELECT count(*)::int AS n FROM plugin_state WHERE key LIKE 'pending/local/receipt:%'`))[0]!.n === 8 ? true : undefined), { what: 'the receipts handed to the batcher' });
    expect((await daemon.kill()).signal).toBe('SIGKILL');
    // as if the kill had come between the finish and the hand-off: nothing was queued
    await sql(daemon, `DELETE FROM plugin_state WHERE key LIKE 'pending/local/receipt:%'`);

    const { daemon: restarted, api: api2 } = await daemonWith('receipts-kill-restart', { batchSize: 10_000, maxWaitMs: 200 }, { reuse: daemon });
    // the start-up pass queues them again by itself (no GET needed)
    await eventually(async () => ((await sql<{ n: number }>(restarted, `SELECT count(*)::int AS n FROM plugin_state WHERE key LIKE 'receipt/%'`))[0]!.n === 8 ? true : undefined), { what: 'all 8 receipts anchored after the restart', timeoutMs: 60_000, intervalMs: 250 });
    const receipts = await Promise.all(ids.map((id) => receiptOf(api2, id)));
    expect(receipts.map((r) => r.body.executionId)).toEqual(ids);
    expect(new Set(receipts.map((r) => r.body.proof.anchor.txHash)).size).toBe(1);
  }, 180_000);
});
