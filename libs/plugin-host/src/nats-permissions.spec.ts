import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import { IsString, definePlugin, defineNode } from '@anchorflow/plugin-sdk';
import type { WorkflowDefinition } from '@anchorflow/engine';
import { connectNats, natsAuthorizationConfig, natsNames, natsPermissions, openResultsBucket, readJobResult, storeJobResult } from '@anchorflow/transport';
import { natsServerBinary, uniquePrefix } from '../../transport/src/nats/spec-support/nats-test-server.js';
import type { LoadedPlugin } from './plugin-loader.js';
import { startDaemon, until } from './spec-support/daemon-harness.js';
import { WorkerRuntime } from './worker-runtime.js';

/**
 * The documented NATS permissions per role (natsPermissions, docs/security.md) on a real nats-server:
 * a worker holding only the worker permissions serves jobs end to end, and with the same permissions
 * cannot sniff the jobs (and their secrets) or the daemons' RPC subjects.
 */
const bin = natsServerBinary();
const describeIf = bin ? describe : describe.skip;
if (!bin) console.warn('SKIPPED NATS permissions: no nats-server binary');

class UseParams {
  @IsString() credential!: string;
}
const useNode = defineNode<UseParams>({
  type: 'perm.use', version: 1, title: 'Use', category: 'action', inputs: ['main'], outputs: ['main'], params: UseParams,
  async execute(ctx) {
    await ctx.state.set('used', true);
    const { token } = await ctx.credentials.get<{ token: string }>(ctx.params.credential);
    return { main: { token, doubled: await ctx.evaluate('x * 2') } };
  },
});
const plugin: LoadedPlugin = {
  spec: 'perm-plugin', packageName: 'perm-plugin', dir: '/nowhere', entry: '/nowhere/index.js',
  plugin: definePlugin({ name: 'perm-plugin', version: '1.0.0', nodes: [useNode] }), nodes: [useNode],
};

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

describeIf('NATS permissions per role (issue 17)', () => {
  const prefix = uniquePrefix('perm');
  const dir = mkdtempSync(join(tmpdir(), 'af-nats-perm-'));
  let server: ChildProcess;
  let url: (user: string) => string;
  const closers: Array<() => Promise<unknown> | unknown> = [];

  beforeAll(async () => {
    const port = await freePort();
    const perms = natsPermissions(prefix);
    const conf = join(dir, 'nats.conf');
    writeFileSync(conf, `listen: "127.0.0.1:${port}"\njetstream { store_dir: ${JSON.stringify(join(dir, 'js'))} }\n` +
      natsAuthorizationConfig([
        { user: 'daemon', password: 'daemon-pw', permissions: perms.daemon },
        { user: 'worker', password: 'worker-pw', permissions: perms.worker },
      ]));
    server = spawn(bin!, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      let log = '';
      const timer = setTimeout(() => reject(new Error(`nats-server did not start:\n${log}`)), 10_000);
      server.stderr!.on('data', (d: Buffer) => {
        log += d.toString();
        if (/Server is ready/.test(log)) {
          clearTimeout(timer);
          resolve();
        }
      });
      server.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`nats-server exited with ${code}:\n${log}`));
      });
    });
    server.removeAllListeners('exit');
    url = (user) => `nats://${user}:${user}-pw@127.0.0.1:${port}`;
  });

  afterAll(async () => {
    for (const c of closers.reverse()) await c();
    if (server && server.exitCode === null) {
      await new Promise<void>((resolve) => {
        server.once('exit', () => resolve());
        server.kill('SIGKILL');
      });
    }
    rmSync(dir, { recursive: true, force: true });
  });

  async function connect(user: string): Promise<NatsConnection> {
    const nc = await connectNats({ url: url(user), reconnectTimeWaitMs: 100 });
    closers.push(() => nc.close());
    return nc;
  }

  it('a worker with only the worker permissions runs jobs end to end (state, credentials, expressions, result)', async () => {
    const d = await startDaemon(await connect('daemon'), prefix, { daemonId: 'daemon-perm' });
    closers.push(() => d.stop());
    const runtime = new WorkerRuntime({ nc: await connect('worker'), plugins: [plugin], prefix, heartbeatMs: 500 });
    await runtime.start();
    closers.push(() => runtime.stop());
    await until(() => d.registry.hasLiveWorker('perm.use'));
    const flow: WorkflowDefinition = { name: 'perm', nodes: [{ id: 'start', type: 'core.trigger.manual' }, { id: 'use', type: 'perm.use', params: { credential: 'api' } }], edges: [{ from: 'start', to: 'use' }] };
    const done = await d.finished(await d.start(flow, { x: 4 }));
    expect({ status: done.status, output: done.output }).toEqual({ status: 'succeeded', output: { use: { token: 'token-of-api', doubled: 8 } } });
    expect(await d.states.get('perm-plugin')!.get('used')).toBe(true);
  });

  it('the worker permissions can store a result with its job message mark and read it back (the redelivery check)', async () => {
    const nc = await connect('worker');
    const names = natsNames(prefix);
    await openResultsBucket(nc, names);
    const data = new TextEncoder().encode('{"stored":true}');
    await storeJobResult(nc.jetstream(), names, 'perm-job', data, { seq: 7, info: { timestampNanos: 1234 } });
    const read = await readJobResult(await nc.jetstreamManager(), names, 'perm-job');
    expect(read && { text: new TextDecoder().decode(read.data), mark: read.mark }).toEqual({ text: '{"stored":true}', mark: '7@1234' });
    expect(await readJobResult(await nc.jetstreamManager(), names, 'no-such-job')).toBeUndefined();
  });

  it.each([['jobs', (p: string) => natsNames(p).jobsAll], ['RPC', (p: string) => `${natsNames(p).prefix}.v1.rpc.>`], ['results', (p: string) => natsNames(p).results('daemon-perm')]])(
    'the same permissions cannot subscribe to the %s subjects',
    async (_what, subject) => {
      const nc = await connect('worker');
      const denied = new Promise<string>((resolve) => {
        nc.subscribe(subject(prefix), { callback: (err) => resolve(err ? String(err.message) : 'delivered') });
      });
      const status = (async () => {
        for await (const s of nc.status()) if (s.type === 'error') return String(s.data);
        return 'closed';
      })();
      await nc.flush();
      expect(await Promise.race([denied, status])).toMatch(/permissions violation/i);
    },
  );
});
