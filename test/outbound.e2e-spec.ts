/**
 * SSRF guard through a real daemon (issue 17): core.http may reach what outbound.allowHosts admits
 * (the e2e daemons allow 127.0.0.1), never the daemon's own port, never the cloud metadata address;
 * a daemon without the allow-list refuses loopback altogether.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Api, nodeRun } from './support/api.js';
import { startDaemon, type Daemon } from './support/daemon.js';
import { chain, manual, node, uid, workflow } from './support/graph.js';
import { startHttpReceiver, type HttpReceiver } from './support/http-receiver.js';

let allowing: Daemon;
let strict: Daemon;
let receiver: HttpReceiver;

beforeAll(async () => {
  [allowing, strict, receiver] = await Promise.all([
    startDaemon({ name: 'outbound-allow' }),
    startDaemon({ name: 'outbound-strict', env: { ANCHORFLOW_OUTBOUND_ALLOW_HOSTS: undefined } }),
    startHttpReceiver(),
  ]);
}, 120_000);

afterAll(async () => {
  await receiver?.close();
  await Promise.all([allowing?.stop(), strict?.stop()]);
});

async function call(daemon: Daemon, url: string) {
  const api = new Api(daemon.url);
  const created = await api.createWorkflow(workflow(`outbound ${uid()}`, [manual(), node('call', 'core.http', { url }, { retry: { maxAttempts: 1 } })], chain('start', 'call')));
  const exec = await api.run(created.id, {});
  return { exec, call: nodeRun(exec, 'call') };
}

describe('outbound requests of core.http (SSRF guard)', () => {
  it('reaches an allow-listed loopback receiver', async () => {
    const path = `/ok-${uid()}`;
    receiver.on(path, { status: 200, body: { fine: true } });
    const { exec } = await call(allowing, receiver.url + path);
    expect(exec.status).toBe('succeeded');
    expect(receiver.count(path)).toBe(1);
  });

  it("refuses the daemon's own API although 127.0.0.1 is allow-listed", async () => {
    const { exec, call: run } = await call(allowing, `${allowing.url}/api/v1/health`);
    expect({ status: exec.status, code: run.error?.code, retryable: run.error?.retryable }).toEqual({ status: 'failed', code: 'OUTBOUND_BLOCKED', retryable: false });
    expect(run.error?.message).toContain("daemon's own listeners");
  });

  it('refuses the cloud metadata address and, without an allow-list, loopback', async () => {
    const metadata = await call(allowing, 'http://169.254.169.254/latest/meta-data/');
    expect(metadata.call.error).toMatchObject({ code: 'OUTBOUND_BLOCKED', message: expect.stringContaining('link-local') });
    const path = `/never-${uid()}`;
    receiver.on(path, { status: 200, body: {} });
    const loopback = await call(strict, receiver.url + path);
    expect(loopback.call.error).toMatchObject({ code: 'OUTBOUND_BLOCKED', message: expect.stringContaining('loopback') });
    expect(receiver.count(path)).toBe(0);
  });
});
