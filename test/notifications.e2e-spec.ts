/**
 * The notifications plugin (issue 10) in a real daemon, against real receivers on loopback: an SMTP
 * server (smtp-server, STARTTLS + AUTH, parsed with mailparser) and an HTTP receiver that checks the
 * HMAC signature and the Idempotency-Key.
 *
 * - the vault validates the data of the plugin's credential types; a workflow naming a credential of
 *   the wrong type is refused at save (400 naming node and param);
 * - a SIGKILL of the daemon while notify.email and notify.webhook wait out a retry backoff: after the
 *   restart, exactly one email and one accepted webhook delivery, outputs counting the attempts, and no
 *   secret in the execution, its events or the logs;
 * - in a plugin worker over NATS (the daemon with the built-in plugin disabled): the same nodes run in
 *   the worker, credentials and delivery records going through the daemon.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { verifyWebhookSignature } from '@anchorflow/plugin-sdk';
import { startSmtpSink, type SmtpSink } from '../plugins/notifications/src/spec-support/smtp-sink.js';
import { natsForTests, reportSkip, uniquePrefix, type NatsTestServer } from '../libs/transport/src/nats/spec-support/nats-test-server.js';
import { Api, nodeRun, problemsOf, type ExecutionEventRecord } from './support/api.js';
import { REPO_ROOT, startDaemon, type Daemon } from './support/daemon.js';
import { currentRun } from './support/e2e-env.js';
import { edge, manual, node, uid, workflow } from './support/graph.js';
import { startHttpReceiver, type HttpReceiver } from './support/http-receiver.js';
import { startWorker, type Worker } from './support/worker.js';

const SMTP_PASSWORD = `smtp-pw-${uid()}-secret`;
const HMAC_SECRET = `hmac-${uid()}-0123456789abcdef`;
const NOTIFICATIONS_DIR = path.join(REPO_ROOT, 'plugins/notifications');

let smtp: SmtpSink;
let receiver: HttpReceiver;
const daemons: Daemon[] = [];
const workers: Worker[] = [];

beforeAll(async () => {
  smtp = await startSmtpSink({ auth: { user: 'mailer', password: SMTP_PASSWORD } });
  receiver = await startHttpReceiver();
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.kill()));
  await Promise.all(daemons.splice(0).map((d) => d.kill()));
});
afterAll(async () => {
  await smtp?.close();
  await receiver?.close();
});

async function createCredential(api: Api, type: string, name: string, data: Record<string, unknown>): Promise<void> {
  const res = await api.post('/api/v1/credentials', { type, name, data });
  if (res.status !== 201) throw new Error(`create ${type} credential: HTTP ${res.status} ${res.text}`);
}

const smtpData = () => ({ host: '127.0.0.1', port: smtp.port, security: 'starttls', user: 'mailer', password: SMTP_PASSWORD, from: 'Anchorflow <alerts@anchorflow.test>', rejectUnauthorized: false });

/** The receiver's check, as a real one would do it: signature over the raw body, then the key. */
function signedReceiver(pathname: string, replies: Array<{ status: number; headers?: Record<string, string> }>): void {
  receiver.on(pathname, (req, nth) => {
    const check = verifyWebhookSignature(HMAC_SECRET, req.headers['x-anchorflow-signature'] as string | undefined, req.body);
    if (!check.ok) return { status: 401, body: check.message };
    if (!req.idempotencyKey) return { status: 400, body: 'Idempotency-Key missing' };
    const r = replies[Math.min(nth, replies.length) - 1]!;
    return { status: r.status, headers: r.headers, body: r.status < 300 ? { received: true } : 'not now' };
  });
}

const notifyFlow = (name: string, tag: string, hookUrl: string, retry: Record<string, number>) =>
  workflow(name, [
    manual(),
    node('mail', 'notify.email', {
      credential: `mail-${tag}`, to: 'ops@example.test', subject: `[${tag}] order {{order}}`, text: 'Order {{order}} paid', html: '<p>Order <b>{{order}}</b> by {{who}}</p>',
    }, { retry }),
    node('hook', 'notify.webhook', { url: hookUrl, credential: `signer-${tag}`, body: '={"tag": "' + tag + '", "order": $.order}' }, { retry }),
  ], [edge('start', 'mail'), edge('start', 'hook')]);

const mailsTagged = (tag: string) => smtp.mails.filter((m) => m.parsed.subject?.startsWith(`[${tag}]`));

describe('notifications in a real daemon', () => {
  it('validates credential data of the declared types and refuses a credential of the wrong type at save', async () => {
    const daemon = await startDaemon({ name: 'notify-save' });
    daemons.push(daemon);
    const api = new Api(daemon.url);
    const tag = uid();

    const bad = await api.post('/api/v1/credentials', { type: 'smtp', name: `bad-${tag}`, data: { host: '127.0.0.1', port: 'x', security: 'ssl', password: SMTP_PASSWORD, from: 'alerts@x.test' } });
    expect(bad.status).toBe(400);
    // a request body that is wrong (not a workflow graph): INVALID_REQUEST naming each field
    expect(bad.body.error.code).toBe('INVALID_REQUEST');
    expect((bad.body.error.details as Array<{ path: string }>).map((p) => p.path)).toEqual(['data.port', 'data.security']);
    expect(bad.text).not.toContain(SMTP_PASSWORD);

    await createCredential(api, 'slack-webhook', `slack-${tag}`, { url: `${receiver.url}/slack/${tag}` });
    const res = await api.post('/api/v1/workflows', workflow(`wrong type ${tag}`, [
      manual(),
      node('mail', 'notify.email', { credential: `slack-${tag}`, to: 'ops@example.test', subject: 's', text: 't' }),
    ], [edge('start', 'mail')]));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(problemsOf(res.body)).toEqual([expect.objectContaining({
      path: '$.nodes[1].params.credential',
      nodeId: 'mail',
      message: `node "mail" param credential: credential "slack-${tag}" is of type slack-webhook, but notify.email needs a smtp credential`,
    })]);

    // a name that does not exist yet is accepted at save and fails the run clearly, sending nothing
    const later = await api.createWorkflow(workflow(`missing ${tag}`, [manual(), node('mail', 'notify.email', { credential: `nope-${tag}`, to: 'ops@example.test', subject: `[${tag}] s`, text: 't' })], [edge('start', 'mail')]));
    const run = await api.run(later.id, {});
    expect(run.status).toBe('failed');
    expect(nodeRun(run, 'mail').error).toMatchObject({ code: 'CREDENTIAL_NOT_FOUND', message: `credential "nope-${tag}" not found`, retryable: false });
    expect(mailsTagged(tag)).toEqual([]);
  });

  it('after a SIGKILL during the retry backoff, delivers exactly one email and one webhook, and leaks no secret', async () => {
    const run = currentRun();
    const tag = uid();
    const first = await startDaemon({ name: 'notify-crash', databaseUrl: run.databaseUrl });
    daemons.push(first);
    const api1 = new Api(first.url);
    await createCredential(api1, 'smtp', `mail-${tag}`, smtpData());
    await createCredential(api1, 'hmac-secret', `signer-${tag}`, { secret: HMAC_SECRET });
    const hookPath = `/hook/${tag}`;
    signedReceiver(hookPath, [{ status: 500 }, { status: 200 }]);
    // the first message of this test is refused with a temporary error, the next accepted
    let mine = 0;
    smtp.reply(() => (++mine === 1 ? { code: 451, message: '4.3.0 Try again later' } : undefined));

    // a long backoff: the kill lands inside it
    const wf = await api1.createWorkflow(notifyFlow(`notify crash ${tag}`, tag, `${receiver.url}${hookPath}`, { maxAttempts: 5, backoffMs: 4000, factor: 1, maxBackoffMs: 4000 }));
    const id = await api1.startExecution(wf.id, { order: 42, who: '<Eve & Co>' });

    // both nodes failed once and have a retry scheduled: the failure (and the delivery record saying so) is durable
    const retrying = (events: ExecutionEventRecord[], nodeId: string) => events.some((e) => e.type === 'node.failed' && e.nodeId === nodeId && e.retryAt !== undefined);
    const deadline = Date.now() + 20_000;
    for (;;) {
      const events = await api1.events(id);
      if (retrying(events, 'mail') && retrying(events, 'hook')) break;
      if (Date.now() > deadline) throw new Error(`no retry scheduled for both nodes: ${JSON.stringify(events.map((e) => [e.type, e.nodeId]))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(receiver.count(hookPath)).toBe(1);
    expect(smtp.refused).toBeGreaterThanOrEqual(1);
    expect(mailsTagged(tag)).toEqual([]);

    expect((await first.kill()).signal).toBe('SIGKILL');
    const second = await startDaemon({ name: 'notify-crash-restart', dataDir: first.dataDir, databaseUrl: first.databaseUrl });
    daemons.push(second);
    const api2 = new Api(second.url);
    const done = await api2.waitForStatus(id, ['succeeded', 'failed', 'cancelled'], { timeoutMs: 60_000, intervalMs: 100 });
    expect({ status: done.status, error: done.error }).toEqual({ status: 'succeeded', error: undefined });

    // exactly one email, as the recipient sees it
    const mails = mailsTagged(tag);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.secure).toBe(true);
    expect(mails[0]!.user).toBe('mailer');
    expect(mails[0]!.parsed.html).toContain('<p>Order <b>42</b> by &lt;Eve &amp; Co&gt;</p>');
    expect(mails[0]!.parsed.headers.get('x-anchorflow-idempotency-key')).toBe(`${id}:mail`);
    // exactly one accepted webhook: the 500 before the kill and the 200 after, same key, valid signatures
    const hooks = receiver.requestsTo(hookPath);
    expect(hooks.map((r) => [r.idempotencyKey, r.json])).toEqual([[`${id}:hook`, { tag, order: 42 }], [`${id}:hook`, { tag, order: 42 }]]);

    expect(nodeRun(done, 'mail').output).toEqual({ main: {
      channel: 'email', status: 'sent', attempts: 2, messageId: mails[0]!.parsed.messageId, durationMs: expect.any(Number), accepted: ['ops@example.test'], rejected: [],
    } });
    expect(nodeRun(done, 'hook').output).toEqual({ main: { channel: 'webhook', status: 'sent', attempts: 2, httpStatus: 200, durationMs: expect.any(Number) } });

    // secrets: nowhere in what the API shows or the daemons logged
    const events = await api2.events(id);
    const everything = JSON.stringify([done, events]) + first.logs() + second.logs();
    expect(everything).not.toContain(SMTP_PASSWORD);
    expect(everything).not.toContain(HMAC_SECRET);
    expect(events.filter((e) => e.type === 'node.failed').map((e) => [e.nodeId, (e.error as { code: string }).code]).sort()).toEqual([['hook', 'WEBHOOK_5XX'], ['mail', 'SMTP_TRANSIENT']]);
  });
});

const nats = await natsForTests('notify');
if ('skip' in nats) reportSkip('notifications in a plugin worker', nats.skip);
const describeNats = 'skip' in nats ? describe.skip : describe;

describeNats('notifications in a plugin worker over NATS', () => {
  afterAll(async () => {
    if (!('skip' in nats)) await (nats as NatsTestServer).close();
  });

  it('runs notify.email and notify.webhook in the worker; credentials and delivery records go through the daemon', async () => {
    const server = nats as NatsTestServer;
    const prefix = uniquePrefix('notify');
    const tag = uid();
    const daemon = await startDaemon({
      name: 'notify-cluster',
      env: { NATS_URL: server.url, ANCHORFLOW_NATS_PREFIX: prefix, ANCHORFLOW_DISABLED_BUILT_IN_PLUGINS: '@anchorflow/plugin-notifications', ANCHORFLOW_WORKERS_DISCOVERY_WINDOW_MS: '300' },
    });
    daemons.push(daemon);
    const api = new Api(daemon.url);
    const worker = await startWorker({ natsUrl: server.url, prefix, plugins: [NOTIFICATIONS_DIR], name: 'notify-worker' });
    workers.push(worker);
    // the daemon learns the remote types (and their credential params) from the worker's announcement
    const deadline = Date.now() + 20_000;
    for (;;) {
      const types = (await api.get<{ items: Array<{ type: string; remote?: boolean }> }>('/api/v1/node-types')).body.items;
      if (['notify.email', 'notify.webhook'].every((t) => types.some((i) => i.type === t && i.remote))) break;
      if (Date.now() > deadline) throw new Error('the worker\'s notify.* types never showed up as remote');
      await new Promise((r) => setTimeout(r, 100));
    }
    await createCredential(api, 'smtp', `mail-${tag}`, smtpData());
    await createCredential(api, 'hmac-secret', `signer-${tag}`, { secret: HMAC_SECRET });
    await createCredential(api, 'slack-webhook', `slack-${tag}`, { url: `${receiver.url}/slack/${tag}` });

    // the save-time check works from the remote schema too
    const wrong = await api.post('/api/v1/workflows', workflow(`wrong remote ${tag}`, [manual(), node('hook', 'notify.webhook', { url: `${receiver.url}/x`, credential: `slack-${tag}` })], [edge('start', 'hook')]));
    expect(wrong.status).toBe(400);
    expect(problemsOf(wrong.body)).toEqual([expect.objectContaining({ nodeId: 'hook', path: '$.nodes[1].params.credential' })]);

    const hookPath = `/worker-hook/${tag}`;
    signedReceiver(hookPath, [{ status: 429, headers: { 'retry-after': '1' } }, { status: 200 }]);
    const wf = await api.createWorkflow(notifyFlow(`notify worker ${tag}`, tag, `${receiver.url}${hookPath}`, { maxAttempts: 3, backoffMs: 200, factor: 1, maxBackoffMs: 2000 }));
    const done = await api.run(wf.id, { order: 7, who: 'Ada' }, 30_000);
    expect({ status: done.status, error: done.error }).toEqual({ status: 'succeeded', error: undefined });
    expect(nodeRun(done, 'hook').output).toEqual({ main: { channel: 'webhook', status: 'sent', attempts: 2, httpStatus: 200, durationMs: expect.any(Number) } });
    expect(nodeRun(done, 'mail').output).toMatchObject({ main: { channel: 'email', status: 'sent', attempts: 1 } });
    // Retry-After: 1 was honoured although the policy's backoff is 200 ms
    const [limited, accepted] = receiver.requestsTo(hookPath);
    expect(accepted!.receivedAt - limited!.receivedAt).toBeGreaterThanOrEqual(1000);
    expect(mailsTagged(tag)).toHaveLength(1);
    for (const nodeId of ['mail', 'hook']) await worker.waitForLog((l) => l.msg === 'job started' && l.executionId === done.id && l.nodeId === nodeId, { what: `${nodeId} ran in the worker` });
    expect(worker.logs() + daemon.logs()).not.toContain(SMTP_PASSWORD);
  });
});
