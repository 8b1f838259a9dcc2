/**
 * The payment observer plugin (issue 12) in real daemon processes against a real anvil chain:
 * - malformed trigger params (ABI fragment, filter, start block) are refused at save with the field named;
 * - a backfill of ~3,000 Transfer events with two daemons on one PostgreSQL: exactly one follower; the
 *   follower's daemon is SIGKILLed mid-backfill and the other takes over: the log has no gap and no
 *   duplicate, and each matching payment started exactly one execution with the payload the issue names;
 * - `anchorflow observer replay` prints the same state hash twice (and the API's /state agrees);
 *   `observer status --follow --until-synced` draws the progress bar;
 * - two daemons over NATS: deactivating a workflow through the daemon that does not run its trigger
 *   stops its observer (another observer keeps going), and reactivating it follows on from the cursor.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { Contract } from 'ethers';
import { Wallet } from 'ethers';
import { Api, listItems, nextCursorOf } from './support/api.js';
import { runCli } from './support/cli.js';
import { sharedDatabase, startDaemon, type Daemon } from './support/daemon.js';
import { currentRun } from './support/e2e-env.js';
import { chain, node, uid, workflow } from './support/graph.js';
import { type Anvil, deploy, KEYS, type RpcProxy, send, startAnvil, startRpcProxy } from '../plugins/payment-observer/src/spec-support/anvil.js';
import { until } from './support/until.js';
import casperSdk from 'casper-js-sdk';
import { startFakeCasper } from './support/fake-casper/index.js';
import { type NatsTestServer, natsForTests, reportSkip, uniquePrefix } from '../libs/transport/src/nats/spec-support/nats-test-server.js';

const ALICE = new Wallet(KEYS[1]!).address;
const BOB = '0x000000000000000000000000000000000000b0b0';
const daemons: Daemon[] = [];
let anvil: Anvil;
let token: Contract;
let proxy: RpcProxy;

interface LogEntry { kind: string; pos: number; id: string; block: number }
interface ObserverRow { id: string; active: boolean; status: { block?: number; head?: number; behind?: number; events: number; lastError?: string } | null }

function configFile(rpcUrls: string[], casperSidecarUrl?: string): string {
  const dir = mkdtempSync(path.join(currentRun().runDir, 'payments-config-'));
  const file = path.join(dir, 'anchorflow.yaml');
  // a small eth_getLogs range so the backfill takes many steps (a kill lands in the middle of it)
  const casperNetworks = casperSidecarUrl ? `    casperNetworks:\n      fake:\n        sidecarUrl: ${JSON.stringify(casperSidecarUrl)}\n` : '';
  writeFileSync(file, `pluginConfig:\n  payment-observer:\n    networks:\n      local:\n        rpcUrls: ${JSON.stringify(rpcUrls)}\n    pollIntervalMs: 100\n    maxBlockRange: 2\n${casperNetworks}`);
  return file;
}

async function daemonFor(name: string, options: { databaseUrl?: string; dataDir?: string; env?: Record<string, string> } = {}): Promise<{ daemon: Daemon; api: Api }> {
  const daemon = await startDaemon({ name, ...options, env: { ANCHORFLOW_CONFIG: configFile([proxy.url]), ANCHORFLOW_CLUSTER_LEASE_MS: '2000', ANCHORFLOW_ENGINE_POLL_INTERVAL_MS: '300', ...options.env } });
  daemons.push(daemon);
  return { daemon, api: new Api(daemon.url) };
}


async function allEntries(api: Api, id: string): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for (let cursor = 0; ; ) {
    const res = await api.get<{ entries: LogEntry[]; nextCursor: number }>(`/api/v1/observers/${id}/events?cursor=${cursor}&limit=1000`);
    expect(res.status).toBe(200);
    if (!res.body.entries.length) return out;
    out.push(...res.body.entries);
    cursor = res.body.nextCursor;
  }
}

async function executionsOf(api: Api, workflowId: string): Promise<Array<{ id: string }>> {
  const seen: Array<{ id: string }> = [];
  let cursor: string | undefined;
  for (;;) {
    const res = await api.get(`/api/v1/executions?workflowId=${workflowId}&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    expect(res.status).toBe(200);
    seen.push(...listItems<{ id: string }>(res.body));
    cursor = nextCursorOf(res.body);
    if (!cursor) return seen;
  }
}

const payFlow = (name: string, params: Record<string, unknown>) => workflow(name, [node('pay', 'payments.trigger.evm', params), node('done', 'core.noop')], chain('pay', 'done'));

beforeAll(async () => {
  anvil = await startAnvil();
  token = await deploy(anvil, 'TestToken', ['Test USD', 'TUSD', 6]);
  await send(token.mint!(await anvil.signer.getAddress(), 10_000_000_000n));
  proxy = await startRpcProxy(anvil.url);
}, 30_000);
afterEach(async () => {
  await Promise.all(daemons.splice(0).map((d) => (d.hasExited() ? undefined : d.stop().catch(() => d.kill()))));
});
afterAll(async () => {
  if (!('skip' in nats)) await nats.close();
  await proxy?.stop();
  await anvil?.stop();
});

describe('payments.trigger.evm params', () => {
  it('refuses a malformed ABI fragment, filter and start block at save, naming the field', async () => {
    const { api } = await daemonFor('payments-validation');
    const base = { network: 'local', contract: token.target, event: 'erc20.Transfer', startBlock: 0 };
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ ...base, event: 'event Paid(address indexed payer, uint257 amount)' }, 'event', /^event is not a valid ABI event fragment/],
      [{ ...base, event: 'Paid(address)' }, 'event', /^event must be "erc20.Transfer", "x402.Flow" or an ABI event fragment/],
      [{ ...base, event: '{"type":"function","name":"f","inputs":[]}' }, 'event', /^event must be an ABI fragment with "type": "event"/],
      [{ ...base, filter: { to: '0x1234' } }, 'filter.to', /^to must be a 0x-prefixed 20-byte hex address/],
      [{ ...base, filter: { minAmount: '-5' } }, 'filter.minAmount', /^minAmount must be a non-negative decimal string/],
      [{ ...base, startBlock: 'soon' }, 'startBlock', /startBlock must be a block number/],
      [{ ...base, startBlock: -1 }, 'startBlock', /startBlock must not be less than 0/],
      [{ ...base, contract: 'nope' }, 'contract', /^contract must be a 0x-prefixed/],
    ];
    for (const [params, field, message] of cases) {
      const res = await api.post<{ error: { details: Array<{ path: string; message: string }> } }>('/api/v1/workflows', payFlow(`bad ${uid()}`, params));
      expect({ params, status: res.status }).toEqual({ params, status: 400 });
      expect(res.body.error.details).toEqual([expect.objectContaining({ path: `$.nodes[0].params.${field}`, message: expect.stringMatching(message) })]);
    }
  }, 60_000);
});

const sharedDb = await sharedDatabase();
const nats = await natsForTests('payments');
if ('skip' in nats) reportSkip('payments › deactivation across daemons', nats.skip);
(sharedDb ? describe : describe.skip)('payment observer on two daemons sharing PostgreSQL', () => {
  it('SIGKILL of the following daemon mid-backfill: the other takes over, no gap, no duplicate, one execution per payment; replay gives the same hash', async () => {
    const start = (await anvil.head()) + 1;
    const me = await anvil.signer.getAddress();
    const paid: string[] = [];
    // ~3,000 non-matching transfers with 6 payments to Alice between them, spread over many blocks
    for (let i = 0; i < 6; i++) {
      await send(token.spray!(BOB, 500n));
      const tx = await token.transfer!(ALICE, BigInt(1_000_000 * (i + 1)));
      paid.push(tx.hash as string);
      await tx.wait();
      await anvil.mine(3);
    }
    await anvil.mine(3);
    const total = 6 * 500 + 6;

    // the follower gets 4 eth_getLogs answers (8 blocks, ~500 events), then waits: the kill lands mid-backfill
    proxy.allowLogs(4);
    const a = await daemonFor('payments-a', { databaseUrl: sharedDb });
    const wf = await a.api.createWorkflow(payFlow(`payments ${uid()}`, { network: 'local', contract: token.target, event: 'erc20.Transfer', filter: { to: ALICE, minAmount: '1' }, confirmations: 2, startBlock: start }));
    await a.api.activate(wf.id);
    // started after the activation: a daemon picks up the active workflows (and their trigger leases) at start-up
    const b = await daemonFor('payments-b', { databaseUrl: sharedDb });
    const id = `${wf.id}.pay`;

    // mid-backfill: some events in, the follower still behind
    await until('the backfill under way', async () => {
      const res = await a.api.get<ObserverRow>(`/api/v1/observers/${id}`);
      const s = res.status === 200 ? res.body.status : null;
      return s && s.events > 0 && (s.behind ?? 0) > 4 ? s : undefined;
    });
    await until('daemon b up', async () => ((await b.api.get('/api/v1/plugins')).status === 200 ? true : undefined));
    // the follower runs in exactly one daemon: the one whose log says so
    const services = await Promise.all([a, b].map(async (x) => (await x.api.get<{ services: Array<{ plugin: string; name: string; status: string }> }>('/api/v1/plugins')).body.services.find((s) => s.plugin === '@anchorflow/plugin-payment-observer')?.status));
    expect([...services].sort()).toEqual(['running', 'standby']);
    const victim = services[0] === 'running' ? a : b;
    const survivor = victim === a ? b : a;
    expect((await victim.daemon.kill()).signal).toBe('SIGKILL');
    proxy.allowLogs(Number.POSITIVE_INFINITY);

    const synced = await until('the survivor caught up', async () => {
      const res = await survivor.api.get<ObserverRow>(`/api/v1/observers/${id}`);
      return res.body.status?.behind === 0 && res.body.status.block === (await anvil.head()) ? res.body : undefined;
    }, 60_000);
    expect(synced.status?.lastError).toBeUndefined();

    const entries = await allEntries(survivor.api, id);
    expect(entries.map((e) => e.pos)).toEqual(entries.map((_, i) => i)); // no gap in the log
    expect(entries.every((e) => e.kind === 'event')).toBe(true);
    expect(new Set(entries.map((e) => e.id)).size).toBe(entries.length); // no duplicate
    expect(entries).toHaveLength(total);
    const blocks = entries.map((e) => e.block);
    expect([...blocks].sort((x, y) => x - y)).toEqual(blocks);

    const executions = await until('one execution per payment', async () => {
      const list = await executionsOf(survivor.api, wf.id);
      return list.length >= 6 ? list : undefined;
    }).catch((err: Error) => {
      throw new Error(`${err.message}\n${survivor.daemon.logs().split('\n').filter((l) => /payment|trigger|observer/i.test(l)).slice(-30).join('\n')}`);
    });
    await new Promise((r) => setTimeout(r, 1000)); // more trigger polls: nothing else may start
    expect(await executionsOf(survivor.api, wf.id)).toHaveLength(6);
    const inputs = await Promise.all(executions.map(async (e) => (await survivor.api.getExecution(e.id)).input as Record<string, unknown>));
    expect(inputs.map((i) => i.txHash).sort()).toEqual([...paid].sort());
    const first = inputs.find((i) => i.amount === '1.0')!;
    expect(first).toMatchObject({ chainId: 31337, from: me, to: ALICE, token: token.target, logIndex: 0, args: { value: '1000000' } });
    expect(typeof first.timestamp).toBe('number');
    expect(first.blockHash).toMatch(/^0x[0-9a-f]{64}$/);

    // replay: same hash twice, equal to the API's
    const env = { ANCHORFLOW_URL: survivor.daemon.url, ANCHORFLOW_API_KEY: survivor.api.bearer ?? undefined };
    const r1 = await runCli(['observer', 'replay', id], { env });
    const r2 = await runCli(['observer', 'replay', id], { env });
    expect(r1.code).toBe(0);
    const h1 = JSON.parse(r1.stdout) as { hash: string; events: number };
    expect(h1.events).toBe(total);
    expect(JSON.parse(r2.stdout).hash).toBe(h1.hash);
    expect(r1.stderr).toMatch(/replaying|reading the log \[#+/);
    expect((await survivor.api.get<{ hash: string }>(`/api/v1/observers/${id}/state`)).body.hash).toBe(h1.hash);
    const status = await runCli(['observer', 'status', id, '--follow', '--until-synced', '--interval-ms', '100'], { env });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`${id}  local  \\[#{30}\\] 100\\.0%  block \\d+/\\d+  behind 0`));
  }, 120_000);
});

describe('reorgs and failover in a daemon', () => {
  it('a dead first RPC URL fails over; a shallow reorg drops an unconfirmed payment before it triggers; a deeper one starts the payments.trigger.reorg workflow', async () => {
    const broken = await startRpcProxy(anvil.url);
    broken.breakWith({ status: 502, body: '<html>bad gateway</html>' });
    const daemon = await startDaemon({ name: 'payments-reorg', env: { ANCHORFLOW_CONFIG: configFile([broken.url, anvil.url]), ANCHORFLOW_ENGINE_POLL_INTERVAL_MS: '300' } });
    daemons.push(daemon);
    const api = new Api(daemon.url);
    try {
      const CAROL = '0x00000000000000000000000000000000000ca401';
      await anvil.mine(8); // the reorgs below stay clear of the token's deployment
      const pay = await api.createWorkflow(payFlow(`reorg pay ${uid()}`, { network: 'local', contract: token.target, event: 'erc20.Transfer', filter: { to: CAROL }, confirmations: 3, startBlock: (await anvil.head()) + 1 }));
      await api.activate(pay.id);
      const id = `${pay.id}.pay`;
      const alarm = await api.createWorkflow(workflow(`reorg alarm ${uid()}`, [node('alarm', 'payments.trigger.reorg', { observer: id }), node('done', 'core.noop')], chain('alarm', 'done')));
      await api.activate(alarm.id);
      const atHead = () => until('the follower at the head', async () => {
        const res = await api.get<ObserverRow>(`/api/v1/observers/${id}`);
        return res.status === 200 && res.body.status?.block === (await anvil.head()) ? res.body : undefined;
      });

      // shallow: the payment's block and the one on top are replaced before it has 3 confirmations
      const dropped = await send(token.transfer!(CAROL, 5n));
      await anvil.mine(1);
      const synced = await atHead();
      expect(synced.status).toMatchObject({ rpcUrl: anvil.url });
      expect(daemon.logs()).toContain('RPC URL failed; failing over');
      await anvil.rpc('anvil_reorg', [2, []]);
      anvil.signer.reset();
      await until('the retraction in the log', async () => ((await allEntries(api, id)).some((e) => e.kind === 'retract') ? true : undefined));
      await anvil.mine(4);
      await atHead();
      await new Promise((r) => setTimeout(r, 1000)); // several trigger polls
      expect(await executionsOf(api, pay.id)).toEqual([]);
      expect((await allEntries(api, id)).map((e) => [e.kind, e.block])).toEqual([['event', dropped], ['retract', dropped]]);

      // deep: a delivered payment vanishes
      const kept = await send(token.transfer!(CAROL, 6n));
      await anvil.mine(3);
      await until('the payment delivered', async () => ((await executionsOf(api, pay.id)).length === 1 ? true : undefined));
      await anvil.rpc('anvil_reorg', [5, []]);
      anvil.signer.reset();
      const alarms = await until('the reorg workflow started', async () => {
        const list = await executionsOf(api, alarm.id);
        return list.length ? list : undefined;
      });
      expect(alarms).toHaveLength(1);
      expect((await api.getExecution(alarms[0]!.id)).input).toMatchObject({ type: 'deep-reorg', observer: id, block: kept, confirmations: 3 });
      const stats = await api.get<{ alerts: number; retracted: number }>(`/api/v1/observers/${id}/stats`);
      expect(stats.body).toMatchObject({ alerts: 1, retracted: 2 });
    } finally {
      await broken.stop();
    }
  }, 90_000);
});

(sharedDb && !('skip' in nats) ? describe : describe.skip)('observer and workflow activation across daemons (NATS)', () => {
  it('deactivating through the other daemon stops the observer while another keeps following; reactivating follows on from the cursor with nothing missed', async () => {
    const env = { NATS_URL: (nats as NatsTestServer).url, ANCHORFLOW_NATS_PREFIX: uniquePrefix('payments') };
    proxy.allowLogs(Number.POSITIVE_INFINITY);
    // a database of its own: the workflows it leaves active must not be followed by another test's daemons
    const db = (await sharedDatabase())!;
    const a = await daemonFor('payments-active-a', { databaseUrl: db, env });
    const start = (await anvil.head()) + 1;
    const params = { network: 'local', contract: token.target, event: 'erc20.Transfer', filter: { to: ALICE }, confirmations: 0, startBlock: start };
    const paused = await a.api.createWorkflow(payFlow(`paused ${uid()}`, params));
    const kept = await a.api.createWorkflow(payFlow(`kept ${uid()}`, params));
    await a.api.activate(paused.id);
    await a.api.activate(kept.id);
    // started after the activations: daemon a holds the trigger leases, so b does not run these triggers
    const b = await daemonFor('payments-active-b', { databaseUrl: db, env });
    const [pausedId, keptId] = [`${paused.id}.pay`, `${kept.id}.pay`];
    const observer = async (id: string) => (await b.api.get<ObserverRow>(`/api/v1/observers/${id}`)).body;
    const count = async (workflowId: string) => (await executionsOf(b.api, workflowId)).length;

    await send(token.transfer!(ALICE, 1n));
    await until('both observers delivered the first payment', async () => ((await count(paused.id)) === 1 && (await count(kept.id)) === 1 ? true : undefined), 30_000);
    expect((await observer(pausedId)).active).toBe(true);

    await b.api.deactivate(paused.id);
    // daemon a stops the trigger when NATS tells it; the registration then says inactive
    await until('the observer inactive', async () => ((await observer(pausedId)).active === false ? true : undefined), 30_000);
    const stoppedAt = (await observer(pausedId)).status!.block!;
    const cli = await runCli(['observer', 'status', pausedId], { env: { ANCHORFLOW_URL: b.daemon.url, ANCHORFLOW_API_KEY: b.api.bearer ?? undefined } });
    expect(cli.stdout).toContain(`${pausedId}  local`);
    expect(cli.stdout).toContain('paused (workflow inactive)');
    const p2 = await send(token.transfer!(ALICE, 2n));
    await send(token.transfer!(ALICE, 3n));
    await anvil.mine(2);
    const head = await anvil.head();
    await until('the other observer at the head with both new payments', async () => ((await observer(keptId)).status?.block === head && (await count(kept.id)) === 3 ? true : undefined), 30_000);
    // the follower went round its loop past the head since the deactivation: the inactive observer did not move
    expect((await observer(pausedId)).status?.block).toBe(stoppedAt);
    expect(stoppedAt).toBeLessThan(p2);
    expect(await count(paused.id)).toBe(1);
    expect((await allEntries(b.api, pausedId)).length).toBe(1);
    const follower = [a, b].find((x) => x.daemon.logs().includes('observer paused: its workflow is not active'));
    expect(follower).toBeDefined();

    await b.api.activate(paused.id);
    await until('the reactivated observer caught up and delivered what came meanwhile', async () => ((await observer(pausedId)).status?.block === head && (await count(paused.id)) === 3 ? true : undefined), 30_000);
    expect((await observer(pausedId)).active).toBe(true);
    const amounts = (await Promise.all((await executionsOf(b.api, paused.id)).map(async (e) => ((await b.api.getExecution(e.id)).input as { rawAmount: string }).rawAmount))).sort();
    expect(amounts).toEqual(['1', '2', '3']);
  }, 120_000);
});

describe('payments.trigger.casper in a daemon', () => {
  it('a native CSPR transfer sent with casper-js-sdk to a watched account starts one execution; malformed params are refused at save', async () => {
    const fake = await startFakeCasper({ chainName: 'casper-e2e' });
    try {
      const daemon = await startDaemon({ name: 'payments-casper', env: { ANCHORFLOW_CONFIG: configFile([anvil.url], fake.sidecarUrl), ANCHORFLOW_ENGINE_POLL_INTERVAL_MS: '300' } });
      daemons.push(daemon);
      const api = new Api(daemon.url);
      const [sender, carol] = await Promise.all([0, 1].map(() => casperSdk.PrivateKey.generate(casperSdk.KeyAlgorithm.ED25519)));
      const bad = await api.post<{ error: { details: Array<{ path: string; message: string }> } }>('/api/v1/workflows', workflow(`casper bad ${uid()}`, [node('pay', 'payments.trigger.casper', { network: 'fake', to: 'carol' }), node('done', 'core.noop')], chain('pay', 'done')));
      expect(bad.status).toBe(400);
      expect(bad.body.error.details).toEqual([expect.objectContaining({ path: '$.nodes[0].params.to', message: expect.stringMatching(/^to must be an account hash/) })]);

      const streams = fake.sidecar.streamsOpened;
      const wf = await api.createWorkflow(workflow(`casper ${uid()}`, [node('pay', 'payments.trigger.casper', { network: 'fake', to: [carol.publicKey.toHex()], filter: { minAmount: '1' } }), node('done', 'core.noop')], chain('pay', 'done')));
      await api.activate(wf.id);
      await fake.sidecar.waitForStreams(streams + 1, 30_000);
      const send = async (motes: string, id: number): Promise<string> => {
        const tx = new casperSdk.NativeTransferBuilder().from(sender.publicKey).target(carol.publicKey).amount(motes).id(id).chainName('casper-e2e').payment(100_000_000).build();
        tx.sign(sender);
        return (await new casperSdk.RpcClient(new casperSdk.HttpHandler(fake.nodeUrl, 'fetch')).putTransaction(tx)).transactionHash.toHex();
      };
      const paid = await send('2500000000', 1);
      await send('1000', 2); // below minAmount: logged, no execution
      const block = fake.produceBlock();
      const id = `${wf.id}.pay`;
      const executions = await until('one execution', async () => {
        const list = await executionsOf(api, wf.id);
        return list.length ? list : undefined;
      }, 30_000);
      const observer = await until('both transfers in the log', async () => {
        const res = await api.get<ObserverRow>(`/api/v1/observers/${id}`);
        return res.body.status?.events === 2 ? res.body : undefined;
      });
      expect(observer).toMatchObject({ active: true, status: { block: block.height, rpcUrl: fake.sidecarUrl } });
      expect(executions).toHaveLength(1);
      expect((await api.getExecution(executions[0]!.id)).input).toMatchObject({
        chainId: 'casper-e2e', txHash: paid, logIndex: 0, block: block.height, blockHash: block.hash, token: 'CSPR', amount: '2.5',
        to: carol.publicKey.accountHash().toPrefixedString(), from: sender.publicKey.accountHash().toPrefixedString(),
      });
      expect((await allEntries(api, id)).map((e) => e.kind)).toEqual(['event', 'event']);
    } finally {
      await fake.stop();
    }
  }, 90_000);
});
