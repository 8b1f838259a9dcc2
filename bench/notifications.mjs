// Notifications benchmark (issue 10): `npm run build`, then `node bench/notifications.mjs`.
//
//   1. webhook notifications/s through one daemon: POST /hooks/bench/notify-webhook (respond: lastNode)
//      → notify.webhook (signed, hmac-secret credential) → a loopback HTTP receiver answering 200;
//      closed loop at c=CONC (10), WARMUP s discarded then DURATION s measured;
//   2. emails/s through the daemon the same way (→ notify.email → a loopback smtp-server, the plugin's
//      pooled nodemailer transport), and the transport alone: the plugin's node run in this process with
//      runNode(), CONC at a time, EMAILS messages;
//   3. memory per queued notification: QUEUED (10,000) executions whose notify.webhook is parked in
//      its retry backoff (the receiver answers 503; backoff 10 min), daemon RSS before and after.
//
// The daemon runs on a fresh database of the PostgreSQL at 127.0.0.1:5432 when it answers (else embedded),
// pinned to SERVER_CPU (1), the load generator to LOADER_CPU (0). Results: .bench-out/notify-<stamp>/.
// Knobs (env): DURATION (10) WARMUP (2) CONC (10) EMAILS (2000) QUEUED (10000) PG_ADMIN_URL.
import { createServer } from 'node:http';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from './load.js';
import { ROOT, api, createExternalDatabase, loadavg, machine, ownCpuMs, portOpen, sleep, startDaemon } from './targets.js';

const E = process.env;
const cfg = {
  duration: Number(E.DURATION ?? 10),
  warmup: Number(E.WARMUP ?? 2),
  conc: Number(E.CONC ?? 10),
  emails: Number(E.EMAILS ?? 2000),
  queued: Number(E.QUEUED ?? 10_000),
  serverCpu: E.SERVER_CPU ?? '1',
  loaderCpu: E.LOADER_CPU ?? '0',
  pgAdminUrl: E.PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
};
const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
const OUT = join(ROOT, '.bench-out', `notify-${stamp}`);
mkdirSync(OUT, { recursive: true });
const log = (msg) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);
const rssKb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);

// ---------------------------------------------------------------- receivers (this process, loopback)
let hookCount = 0;
let queuedSeen = 0;
const receiver = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (req.url.startsWith('/queue')) {
      queuedSeen++;
      res.writeHead(503).end('not now');
    } else {
      hookCount++;
      res.writeHead(200).end('ok');
    }
  });
});
await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
const receiverUrl = `http://127.0.0.1:${receiver.address().port}`;

const { SMTPServer } = await import('smtp-server');
let mailCount = 0;
const smtp = new SMTPServer({
  authOptional: true, disabledCommands: ['AUTH', 'STARTTLS'], logger: false,
  onData(stream, _s, cb) {
    stream.resume();
    stream.on('end', () => {
      mailCount++;
      cb(null);
    });
  },
});
await new Promise((r) => smtp.listen(0, '127.0.0.1', r));
const smtpPort = smtp.server.address().port;

// ---------------------------------------------------------------- the daemon
const external = await portOpen('127.0.0.1', 5432);
const db = external ? await createExternalDatabase(cfg.pgAdminUrl) : undefined;
log(`daemon on ${db ? `external PostgreSQL (${db.name})` : 'embedded PostgreSQL'}`);
const daemon = await startDaemon({ name: 'notify', cpu: cfg.serverCpu, outDir: OUT, db });
const base = daemon.base;
const pid = daemon.child.pid;
const results = { machine: machine(), cfg, database: db ? 'external' : 'embedded', loadavgStart: loadavg() };

try {
  await api(base, 'POST', '/api/v1/credentials', { type: 'hmac-secret', name: 'bench-signer', data: { secret: 'bench-secret-0123456789abcdef' } });
  await api(base, 'POST', '/api/v1/credentials', { type: 'smtp', name: 'bench-mail', data: { host: '127.0.0.1', port: smtpPort, security: 'none', from: 'bench@anchorflow.test' } });
  const hook = (path, respond = 'lastNode') => ({ id: 'hook', type: 'core.trigger.webhook', params: { path, method: 'POST', respond, include: 'body', ...(respond === 'lastNode' ? { publicOutput: true } : {}) } });
  const flow = async (name, path, n, respond) => {
    const wf = await api(base, 'POST', '/api/v1/workflows', { name, nodes: [hook(path, respond), n], edges: [{ from: 'hook', to: 'n' }] });
    await api(base, 'POST', `/api/v1/workflows/${wf.id}/activate`);
    return `${base}/hooks/${path}`;
  };
  const webhookUrl = await flow('bench notify.webhook', 'bench/notify-webhook', { id: 'n', type: 'notify.webhook', params: { url: `${receiverUrl}/hook`, credential: 'bench-signer' } });
  const emailUrl = await flow('bench notify.email', 'bench/notify-email', { id: 'n', type: 'notify.email', params: { credential: 'bench-mail', to: 'ops@example.test', subject: 'order {{id}}', text: 'Order {{id}} for {{name}}', html: '<p>{{name}}</p>' } });
  const queueUrl = await flow('bench queued', 'bench/notify-queue', {
    id: 'n', type: 'notify.webhook', params: { url: `${receiverUrl}/queue` }, retry: { maxAttempts: 5, backoffMs: 600_000, factor: 1, maxBackoffMs: 600_000 },
  }, 'immediately');

  const measure = async (what, url, counter) => {
    await load(url, { conc: cfg.conc, seconds: cfg.warmup, cpu: cfg.loaderCpu });
    const before = counter();
    const cpu0 = ownCpuMs(pid);
    const r = await load(url, { conc: cfg.conc, seconds: cfg.duration, cpu: cfg.loaderCpu });
    const delivered = counter() - before;
    const cpuMs = ownCpuMs(pid) - cpu0;
    const row = { what, conc: cfg.conc, rps: r.rps, delivered, deliveredPerSec: +(delivered / r.duration_s).toFixed(1), p50_ms: r.p50_ms, p99_ms: r.p99_ms, errors: r.non2xx_or_err, daemonCpuUsPerNotification: delivered ? Math.round((cpuMs * 1000) / delivered) : null, loader: r.loader };
    log(`${what}: ${JSON.stringify(row)}`);
    return row;
  };
  results.webhook = await measure('notify.webhook via daemon', webhookUrl, () => hookCount);
  results.email = await measure('notify.email via daemon', emailUrl, () => mailCount);

  // the transport alone: the plugin's node in this process, pooled connections
  const sdk = await import(join(ROOT, 'libs/plugin-sdk/dist/index.js'));
  const plugin = await import(join(ROOT, 'plugins/notifications/dist/index.js'));
  const creds = { m: { host: '127.0.0.1', port: smtpPort, security: 'none', from: 'bench@anchorflow.test' } };
  const before = mailCount;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: cfg.conc }, async () => {
    while (next < cfg.emails) {
      const i = next++;
      await sdk.runNode(plugin.emailNode, { credentials: creds, idempotencyKey: `bench:${i}`, input: { id: i }, params: { credential: 'm', to: 'ops@example.test', subject: 'order {{id}}', text: 'Order {{id}}' } });
    }
  }));
  const s = (performance.now() - t0) / 1000;
  plugin.closeSmtpTransports();
  results.emailInProcess = { what: 'notify.email in process (runNode, pooled)', conc: cfg.conc, sent: mailCount - before, perSec: +((mailCount - before) / s).toFixed(1) };
  log(`email in process: ${JSON.stringify(results.emailInProcess)}`);

  // memory per queued notification
  await sleep(2000);
  const rss0 = rssKb(pid);
  const q0 = queuedSeen;
  let sent = 0;
  const t1 = performance.now();
  await Promise.all(Array.from({ length: 20 }, async () => {
    while (sent < cfg.queued) {
      sent++;
      const res = await fetch(queueUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n: sent }) });
      await res.arrayBuffer();
    }
  }));
  const deadline = Date.now() + 300_000;
  while (queuedSeen - q0 < cfg.queued && Date.now() < deadline) await sleep(200);
  await sleep(2000);
  const rss1 = rssKb(pid);
  results.queued = {
    queued: cfg.queued, firstAttemptsSeen: queuedSeen - q0, startSeconds: +((performance.now() - t1) / 1000).toFixed(1),
    rssBeforeMb: +(rss0 / 1024).toFixed(1), rssAfterMb: +(rss1 / 1024).toFixed(1), bytesPerQueued: Math.round(((rss1 - rss0) * 1024) / cfg.queued),
  };
  log(`queued: ${JSON.stringify(results.queued)}`);
} finally {
  results.loadavgEnd = loadavg();
  log(`daemon stop: ${await daemon.stop()}`);
  if (db) await db.drop();
  receiver.close();
  smtp.close();
  writeFileSync(join(OUT, 'results.json'), JSON.stringify(results, null, 2));
}

console.log(`| measure | c | result | p50 ms | p99 ms | daemon CPU µs per notification |
|---|---:|---:|---:|---:|---:|
| webhook notifications/s (daemon → signed POST → loopback receiver) | ${results.webhook.conc} | ${results.webhook.deliveredPerSec} /s | ${results.webhook.p50_ms} | ${results.webhook.p99_ms} | ${results.webhook.daemonCpuUsPerNotification} |
| emails/s (daemon → pooled SMTP → loopback smtp-server) | ${results.email.conc} | ${results.email.deliveredPerSec} /s | ${results.email.p50_ms} | ${results.email.p99_ms} | ${results.email.daemonCpuUsPerNotification} |
| emails/s, the node in process (runNode, pooled) | ${results.emailInProcess.conc} | ${results.emailInProcess.perSec} /s | | | |
| memory per queued notification (${results.queued.queued} parked in retry backoff) | | ${results.queued.bytesPerQueued} bytes (RSS ${results.queued.rssBeforeMb} → ${results.queued.rssAfterMb} MB) | | | |
`);
console.error(`results: ${OUT}`);
