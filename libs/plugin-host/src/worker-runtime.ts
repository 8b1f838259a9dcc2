import { hostname } from 'node:os';
import type { ConsumerMessages, JetStreamClient, JetStreamManager, JsMsg, NatsConnection, Subscription } from 'nats';
import {
  type NodeDefinition,
  type NodeLogger,
  NodeError,
  type OutboundFetch,
  type OutboundPolicy,
  type PluginMetrics,
  createGuardedFetch,
  invokeNode,
  outboundPolicyFromEnv,
  toErrorInfo,
  validateParams,
  silentLogger,
} from '@anchorflow/plugin-sdk';
import { describeNodeType, isRemotable } from '@anchorflow/engine';
import {
  type AnnounceMessage,
  type JobMessage,
  type JobOutcomeWire,
  type JobsStreamOptions,
  type NatsNames,
  type ResultMessage,
  DEFAULT_PREFIX,
  WIRE_VERSION,
  assertSubjectToken,
  decodeCancel,
  decodeJob,
  decodeResult,
  encodeMessage,
  ensureJobConsumer,
  ensureJobsStream,
  natsNames,
  jobMessageMark,
  openResultsBucket,
  readJobResult,
  remoteJobHost,
  retryUntil,
  sleep,
  storeJobResult,
  unlessReconnected,
  watchReconnects,
} from '@anchorflow/transport';
import type { LoadedPlugin } from './plugin-loader.js';

export interface WorkerRuntimeOptions {
  nc: NatsConnection;
  /** plugins loaded with loadPlugins(); their non-trigger node types are served */
  plugins: readonly LoadedPlugin[];
  /** unique per process (default `<hostname>-<pid>`) */
  workerId?: string;
  prefix?: string;
  /** jobs run at once in this process, all node types together (default 4) */
  concurrency?: number;
  /** consumer ack wait: a job whose worker stops heartbeating is redelivered after this (default 30 s) */
  ackWaitMs?: number;
  /**
   * a job message published longer ago than this (by the NATS server's timestamp, read with this host's
   * clock) may have been delivered before, even when it arrives as delivery 1: the worker looks for its
   * stored result before running it (default ackWaitMs / 2; see handle())
   */
  redeliveryCheckAgeMs?: number;
  /**
   * a job is run at most this many times (a worker died or stalled each time before); one more delivery
   * reports JOB_REDELIVERY_EXHAUSTED instead of running it (default 5)
   */
  maxDeliver?: number;
  /** announce period (default 5 s); daemons forget the worker after three missed announcements */
  heartbeatMs?: number;
  /** time limit of one request to the daemon (default 10 s) */
  rpcTimeoutMs?: number;
  /** on stop, jobs in flight get this long to finish before they are aborted and handed back (default 20 s) */
  shutdownTimeoutMs?: number;
  stream?: JobsStreamOptions;
  logger?: NodeLogger;
  /**
   * the outbound policy behind ctx.fetch (SSRF guard); default: ANCHORFLOW_OUTBOUND_ALLOW_HOSTS from the
   * environment, else nothing allow-listed
   */
  outbound?: OutboundPolicy;
  /** each plugin's ctx.metrics (the worker exposes them on its own /metrics); none recorded when absent */
  metrics?: (plugin: string) => PluginMetrics;
}

interface InFlight {
  job: JobMessage;
  controller: AbortController;
}

class Slots {
  private free: number;
  private readonly waiters: Array<() => void> = [];
  constructor(size: number) {
    this.free = size;
  }
  tryAcquire(): boolean {
    if (this.free <= 0) return false;
    this.free--;
    return true;
  }
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((r) => this.waiters.push(r));
  }
  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.free++;
  }
}

/** The reason an attempt is aborted: the daemon gave up on it, or this worker is stopping. */
class AbortReason extends NodeError {
  override readonly retryable: boolean;
  constructor(
    readonly kind: 'cancelled' | 'shutdown' | 'deadline',
    message: string,
  ) {
    super(message, kind === 'cancelled' ? 'CANCELLED' : kind === 'shutdown' ? 'WORKER_SHUTTING_DOWN' : 'NODE_TIMEOUT');
    // a timed-out attempt may be retried by the workflow's policy, like the engine's own timeout
    this.retryable = kind === 'deadline';
  }
}


/**
 * A plugin worker: serves the node types of its plugins from the JetStream work queue.
 *
 * Per node type one durable pull consumer (shared by every worker serving the type, so jobs are split
 * between them), explicit ack, `working()` heartbeats while a job runs, redelivery after the ack wait
 * when a worker dies. Each job runs through the SDK's invokeNode with credentials, plugin state and
 * expression evaluation proxied to the daemon that sent it; the result is stored in the results bucket,
 * announced to the daemon, and only then acknowledged. A redelivered job whose result is already stored
 * is not run again. A malformed job is terminated with a logged reason, never redelivered.
 */
export class WorkerRuntime {
  readonly workerId: string;
  readonly names: NatsNames;
  private readonly nc: NatsConnection;
  private readonly js: JetStreamClient;
  private jsm?: JetStreamManager;
  private readonly logger: NodeLogger;
  private readonly defs = new Map<string, { def: NodeDefinition; plugin: LoadedPlugin }>();
  private readonly inflight = new Map<string, InFlight>();
  private readonly cancelled = new Map<string, number>();
  private readonly iterators = new Set<ConsumerMessages>();
  private readonly subs: Subscription[] = [];
  private readonly slots: Slots;
  private readonly handlers = new Set<Promise<void>>();
  private readonly hardStop = new AbortController();
  private readonly reconnects: ReturnType<typeof watchReconnects>;
  private announceTimer?: NodeJS.Timeout;
  private stopping = false;
  private startedAt = 0;
  private readonly ackWaitMs: number;
  private readonly redeliveryCheckAgeMs: number;
  private readonly maxDeliver: number;
  private readonly heartbeatMs: number;
  private readonly fetch: OutboundFetch;
  /** `resultLookups`: reads of the results bucket before running a job (0 for fresh first deliveries) */
  readonly stats = { completed: 0, failed: 0, rejected: 0, redeliveredWithResult: 0, resultLookups: 0, exhausted: 0, cancelled: 0, handedBack: 0 };

  constructor(private readonly opts: WorkerRuntimeOptions) {
    this.fetch = createGuardedFetch(opts.outbound ?? outboundPolicyFromEnv());
    this.workerId = opts.workerId ?? `${hostname().replace(/[^A-Za-z0-9_-]/g, '-')}-${process.pid}`;
    assertSubjectToken(this.workerId, 'worker id');
    this.names = natsNames(opts.prefix ?? DEFAULT_PREFIX);
    this.nc = opts.nc;
    this.js = opts.nc.jetstream();
    this.logger = opts.logger ?? silentLogger;
    this.slots = new Slots(Math.max(1, opts.concurrency ?? 4));
    this.ackWaitMs = opts.ackWaitMs ?? 30_000;
    this.redeliveryCheckAgeMs = opts.redeliveryCheckAgeMs ?? Math.floor(this.ackWaitMs / 2);
    this.maxDeliver = Math.max(1, opts.maxDeliver ?? 5);
    this.heartbeatMs = opts.heartbeatMs ?? 5000;
    this.reconnects = watchReconnects(opts.nc);
    for (const plugin of opts.plugins) {
      for (const def of plugin.nodes) {
        if (!isRemotable(def)) {
          this.logger.info('trigger node types run in the daemon, not in a worker; skipped', { nodeType: def.type, plugin: plugin.packageName });
          continue;
        }
        this.defs.set(def.type, { def, plugin });
      }
    }
  }

  /** node types this worker serves */
  get nodeTypes(): string[] {
    return [...this.defs.keys()].sort();
  }

  get running(): number {
    return this.inflight.size;
  }

  /** ensures stream, consumers and results bucket (waiting for NATS if needed), then serves and announces */
  async start(): Promise<void> {
    const signal = this.hardStop.signal;
    const onError = (what: string) => (err: unknown, attempt: number) => {
      if (attempt === 1 || attempt % 10 === 0) this.logger.warn(`NATS not ready (${what}); retrying`, { err: String(err) });
    };
    const jsm = await retryUntil(() => this.nc.jetstreamManager(), { signal, onError: onError('JetStream') });
    this.jsm = jsm;
    await retryUntil(() => ensureJobsStream(jsm, this.names, this.opts.stream), { signal, onError: onError('jobs stream') });
    for (const type of this.defs.keys()) {
      await retryUntil(() => ensureJobConsumer(jsm, this.names, type, { ackWaitMs: this.ackWaitMs, maxDeliver: this.maxDeliver + 1 }), { signal, onError: onError(`consumer of ${type}`) });
    }
    // created here if missing (results are stored with storeJobResult, read with readJobResult)
    await retryUntil(() => openResultsBucket(this.nc, this.names), { signal, onError: onError('results bucket') });
    for (const type of this.defs.keys()) {
      this.subs.push(this.nc.subscribe(this.names.cancel(type), { callback: (err, msg) => (err ? undefined : this.onCancel(msg.data)) }));
    }
    this.subs.push(this.nc.subscribe(this.names.query, { callback: () => this.announce() }));
    this.startedAt = Date.now();
    for (const type of this.defs.keys()) void this.consumeLoop(type);
    this.announce();
    this.announceTimer = setInterval(() => this.announce(), this.heartbeatMs);
    this.logger.info('worker serving', { workerId: this.workerId, nodeTypes: this.nodeTypes, concurrency: this.opts.concurrency ?? 4 });
  }

  /**
   * Graceful stop: no new jobs; jobs in flight get `shutdownTimeoutMs` to finish, the rest are aborted
   * and handed back (nak) for another worker. The NATS connection stays open (the caller drains it).
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearInterval(this.announceTimer);
    this.announce(true);
    await Promise.all([...this.iterators].map((it) => it.close().catch(() => undefined)));
    const deadline = Date.now() + (this.opts.shutdownTimeoutMs ?? 20_000);
    while (this.handlers.size && Date.now() < deadline) await this.settledOrTimeout(deadline - Date.now());
    if (this.inflight.size) {
      this.logger.warn('jobs did not finish in time; handing them back', { jobs: [...this.inflight.keys()] });
      for (const f of this.inflight.values()) f.controller.abort(new AbortReason('shutdown', 'the worker is shutting down'));
      await this.settledOrTimeout(2000);
    }
    this.hardStop.abort(new AbortReason('shutdown', 'the worker stopped'));
    this.reconnects.stop();
    for (const s of this.subs.splice(0)) s.unsubscribe();
    await this.nc.flush().catch(() => undefined);
    this.logger.info('worker stopped', { workerId: this.workerId, ...this.stats });
  }

  /** the job handlers running now have settled, or ms passed (no timer left behind) */
  private async settledOrTimeout(ms: number): Promise<void> {
    const timer = new AbortController();
    await Promise.race([Promise.allSettled([...this.handlers]), sleep(Math.max(1, ms), timer.signal)]);
    timer.abort();
  }

  private announce(leaving = false): void {
    const message: AnnounceMessage = {
      v: WIRE_VERSION,
      workerId: this.workerId,
      plugins: this.opts.plugins.map((p) => ({ name: p.packageName, version: p.plugin.version })),
      nodeTypes: leaving ? [] : [...this.defs.values()].map(({ def, plugin }) => ({ ...describeNodeType(def), plugin: plugin.packageName })),
      heartbeatMs: this.heartbeatMs,
      ...(leaving ? { leaving: true } : {}),
      at: Date.now(),
    };
    try {
      this.nc.publish(this.names.announce, encodeMessage(message));
    } catch (err) {
      this.logger.warn('announcement not sent', { err: String(err) });
    }
  }

  private onCancel(data: Uint8Array): void {
    const decoded = decodeCancel(data);
    if (!decoded.ok) return this.logger.warn('rejected a malformed cancel message', { reason: decoded.reason });
    const { jobId, reason } = decoded.value;
    const now = Date.now();
    this.cancelled.set(jobId, now);
    for (const [id, at] of this.cancelled) if (now - at > 600_000) this.cancelled.delete(id);
    const f = this.inflight.get(jobId);
    if (f) {
      this.logger.info('job cancelled by the daemon', { jobId, reason });
      f.controller.abort(new AbortReason('cancelled', `cancelled by the daemon: ${reason}`));
    }
  }

  // ------------------------------------------------------------------ consuming

  private async consumeLoop(type: string): Promise<void> {
    const { def } = this.defs.get(type)!;
    let backoff = 250;
    while (!this.stopping) {
      let messages: ConsumerMessages | undefined;
      try {
        const consumer = await this.js.consumers.get(this.names.jobsStream, this.names.consumer(type));
        messages = await consumer.consume({ max_messages: 1 });
        this.iterators.add(messages);
        void this.watchConsumer(type, messages);
        backoff = 250;
        for await (const msg of messages) {
          if (this.stopping) {
            msg.nak();
            continue;
          }
          // keep it ours while it waits for a free slot
          const heartbeat = this.heartbeat(msg);
          const waited = !this.slots.tryAcquire();
          if (waited) await this.slots.acquire();
          if (this.stopping) {
            clearInterval(heartbeat);
            this.slots.release();
            msg.nak();
            continue;
          }
          const handler = this.handle(def, msg, waited)
            .catch((err) => this.logger.error('job handling failed unexpectedly', { subject: msg.subject, err: String(err) }))
            .finally(() => {
              clearInterval(heartbeat);
              this.slots.release();
              this.handlers.delete(handler);
            });
          this.handlers.add(handler);
        }
      } catch (err) {
        if (this.stopping) break;
        this.logger.warn('job consumer interrupted; resuming', { nodeType: type, err: String(err) });
        await this.reensure(type);
        await sleep(backoff, this.hardStop.signal);
        backoff = Math.min(backoff * 2, 5000);
      } finally {
        if (messages) this.iterators.delete(messages);
      }
      if (!this.stopping) {
        // the iterator ended on its own (e.g. the consumer vanished): create it again
        await this.reensure(type);
        await sleep(backoff, this.hardStop.signal);
      }
    }
  }

  private async watchConsumer(type: string, messages: ConsumerMessages): Promise<void> {
    try {
      for await (const s of await messages.status()) {
        if (s.type === 'consumer_not_found' || s.type === 'stream_not_found' || s.type === 'consumer_deleted') {
          this.logger.warn('job consumer missing on the server; creating it again', { nodeType: type, event: s.type });
          await this.reensure(type);
        }
      }
    } catch {
      // the iterator closed
    }
  }

  private async reensure(type: string): Promise<void> {
    try {
      const jsm = await this.nc.jetstreamManager();
      await ensureJobsStream(jsm, this.names, this.opts.stream);
      await ensureJobConsumer(jsm, this.names, type, { ackWaitMs: this.ackWaitMs, maxDeliver: this.maxDeliver + 1 });
    } catch (err) {
      this.logger.debug('could not (re)create the job consumer yet', { nodeType: type, err: String(err) });
    }
  }

  private heartbeat(msg: JsMsg): NodeJS.Timeout {
    const t = setInterval(() => {
      try {
        msg.working();
      } catch {
        // disconnected: the job may be redelivered elsewhere; its idempotency key covers that
      }
    }, Math.max(200, Math.floor(this.ackWaitMs / 3)));
    t.unref();
    return t;
  }

  /**
   * `waited`: the message waited for a free slot, and the client may have held it unseen before that
   * (one prefetched message per node type), long enough for JetStream to redeliver it elsewhere: look for
   * a stored result before running it, as for a redelivery.
   */
  private async handle(def: NodeDefinition, msg: JsMsg, waited = false): Promise<void> {
    const decoded = decodeJob(msg.data);
    if (!decoded.ok) {
      this.stats.rejected++;
      this.logger.error('rejected a malformed job; terminated, not redelivered', { subject: msg.subject, streamSeq: msg.seq, reason: decoded.reason });
      msg.term();
      return;
    }
    const job = decoded.value;
    const where = { jobId: job.jobId, nodeType: job.nodeType, executionId: job.executionId, nodeId: job.nodeId, attempt: job.attempt, delivery: msg.info.deliveryCount, streamSeq: msg.seq };
    if (job.nodeType !== def.type) {
      this.stats.rejected++;
      this.logger.error('rejected a job for another node type; terminated', { ...where, subject: msg.subject, reason: `job is for ${job.nodeType} but arrived on the subject of ${def.type}` });
      msg.term();
      return;
    }
    if (this.cancelled.has(job.jobId)) {
      this.stats.cancelled++;
      this.logger.info('job was cancelled before it started; dropped', where);
      msg.term();
      return;
    }
    if (job.deadline !== undefined && Date.now() > job.deadline) {
      this.logger.warn('job is past its deadline (the daemon gave up on it); dropped', where);
      msg.term();
      return;
    }
    if (this.mayHaveRunBefore(msg, waited) && (await this.resendStoredResult(job, msg, waited))) return;
    if (msg.info.deliveryCount > this.maxDeliver) {
      this.stats.exhausted++;
      this.logger.error('job was delivered too many times without finishing; reporting a failure instead of running it again', where);
      await this.finish(job, msg, {
        kind: 'error',
        error: { message: `the job for ${job.nodeType} was started ${this.maxDeliver} times without finishing (a worker died or stalled each time)`, code: 'JOB_REDELIVERY_EXHAUSTED', retryable: false },
      }, 0);
      return;
    }
    const controller = new AbortController();
    this.inflight.set(job.jobId, { job, controller });
    const deadlineTimer = job.deadline !== undefined ? setTimeout(() => controller.abort(new AbortReason('deadline', 'the attempt reached its deadline')), Math.max(0, job.deadline - Date.now())) : undefined;
    const started = Date.now();
    const logger = this.jobLogger(where);
    logger.debug('job started');
    let outcome: JobOutcomeWire;
    try {
      const checked = validateParams(def.params, job.params);
      if (checked.problems.length) {
        throw new NodeError(`params are invalid for ${def.type} v${def.version} on this worker: ${checked.problems.map((p) => `${p.path} ${p.message}`).join('; ')}`, 'INVALID_PARAMS', checked.problems);
      }
      const host = remoteJobHost({ fetch: this.fetch, nc: this.nc, names: this.names, job, signal: controller.signal, logger, ...(this.opts.rpcTimeoutMs ? { rpcTimeoutMs: this.opts.rpcTimeoutMs } : {}) });
      const plugin = this.defs.get(def.type)?.plugin.packageName;
      const metrics = plugin ? this.opts.metrics?.(plugin) : undefined;
      const result = await invokeNode(def, { ...job, input: job.input, params: checked.value as Record<string, unknown> }, { ...host, ...(metrics ? { metrics } : {}) });
      outcome = result.kind === 'output' ? { kind: 'output', outputs: result.outputs } : { kind: 'suspend', ...(result.until !== undefined ? { until: result.until } : {}), ...(result.token ? { token: result.token } : {}) };
    } catch (err) {
      outcome = { kind: 'error', error: toErrorInfo(err) };
    } finally {
      clearTimeout(deadlineTimer);
      this.inflight.delete(job.jobId);
    }
    const aborted = controller.signal.aborted ? (controller.signal.reason as AbortReason) : undefined;
    if (aborted?.kind === 'cancelled') {
      // the daemon stopped waiting for it: no result
      this.stats.cancelled++;
      msg.term();
      return;
    }
    if (aborted?.kind === 'shutdown') {
      this.stats.handedBack++;
      logger.warn('job handed back for another worker (shutdown)');
      msg.nak();
      return;
    }
    logger.debug('job executed; storing the result', { outcome: outcome.kind, durationMs: Date.now() - started });
    await this.finish(job, msg, outcome, Date.now() - started);
  }

  /**
   * Could this message have been delivered (and run) before? Then its result may already be stored.
   * - deliveryCount > 1: JetStream says so.
   * - waited: the client may have held it unseen long enough for JetStream to redeliver it elsewhere.
   * - it is older than redeliveryCheckAgeMs: nats-server 2.9 can hand a message whose ack wait ran out
   *   to the next worker as delivery 1 (it rewinds the consumer when no live puller takes the
   *   redelivery; DEVELOPERS.md "Tests"). A redelivery comes at least one ack wait after the first
   *   delivery, so at least ackWait after publication by the server's clock; a message younger than
   *   that cannot be one. The default threshold, ackWait / 2, leaves the other half for clock skew
   *   between the NATS server (the timestamp) and this host (Date.now()): a worker clock up to ackWait/2
   *   (15 s by default) behind the server still checks every real redelivery; a clock ahead only makes
   *   fresh jobs pay one bucket read. Fresh jobs on a sane clock read nothing (stats.resultLookups).
   */
  private mayHaveRunBefore(msg: JsMsg, waited: boolean): boolean {
    if (msg.info.deliveryCount > 1 || waited) return true;
    const publishedAt = msg.info.timestampNanos / 1e6;
    return Date.now() - publishedAt > this.redeliveryCheckAgeMs;
  }

  /**
   * A job whose result was stored by an earlier delivery of the SAME stream message (the worker died
   * between storing and acking): send that result again instead of running the node. A result stored
   * for another message with the same job id (the daemon published the job id again after the
   * duplicate window, e.g. a node resumed twice with the same data) is stale and never resent: the job
   * runs. A result without a mark (stored by an older worker) is trusted as before: only for
   * deliveryCount > 1 or a message that waited.
   */
  private async resendStoredResult(job: JobMessage, msg: JsMsg, waited: boolean): Promise<boolean> {
    try {
      this.stats.resultLookups++;
      const stored = await readJobResult(this.jsm!, this.names, job.jobId);
      if (!stored || !decodeResult(stored.data).ok) return false;
      const sameMessage = stored.mark === undefined ? msg.info.deliveryCount > 1 || waited : stored.mark === jobMessageMark(msg);
      if (!sameMessage) {
        this.logger.debug('a stored result of an earlier message with this job id is not this delivery\'s; running the job', { jobId: job.jobId, streamSeq: msg.seq, storedFor: stored.mark });
        return false;
      }
      this.stats.redeliveredWithResult++;
      this.logger.info('redelivered job already has a result; sending it again instead of running the node', { jobId: job.jobId, delivery: msg.info.deliveryCount, streamSeq: msg.seq });
      this.notify(job, stored.data);
      await this.ack(msg);
      return true;
    } catch (err) {
      this.logger.debug('could not check for a stored result', { jobId: job.jobId, err: String(err) });
      return false;
    }
  }

  private async finish(job: JobMessage, msg: JsMsg, outcome: JobOutcomeWire, durationMs: number): Promise<void> {
    const make = (o: JobOutcomeWire): ResultMessage => ({ v: WIRE_VERSION, jobId: job.jobId, secret: job.secret, workerId: this.workerId, outcome: o, delivery: msg.info.deliveryCount, durationMs, finishedAt: Date.now() });
    let data: Uint8Array;
    try {
      data = encodeMessage(make(outcome));
    } catch (err) {
      data = encodeMessage(make({ kind: 'error', error: { message: `${job.nodeType} returned outputs that are not JSON: ${(err as Error).message}`, code: 'OUTPUT_NOT_SERIALIZABLE', retryable: false } }));
    }
    const max = (this.nc.info?.max_payload ?? 1024 * 1024) - 4096;
    if (data.length > max) {
      data = encodeMessage(make({ kind: 'error', error: { message: `${job.nodeType} returned ${data.length} bytes; results are limited to ${max} bytes (NATS max_payload)`, code: 'RESULT_TOO_LARGE', retryable: false } }));
    }
    if (outcome.kind === 'error') this.stats.failed++;
    else this.stats.completed++;
    // stored first: the daemon finds it there even if it misses the notification (restart, disconnect)
    await retryUntil(() => unlessReconnected(() => storeJobResult(this.js, this.names, job.jobId, data, msg), this.reconnects), {
      signal: this.hardStop.signal,
      maxDelayMs: 1000,
      onError: (err, attempt) => {
        if (attempt === 1 || attempt % 10 === 0) this.logger.warn('result not stored yet; retrying', { jobId: job.jobId, err: String(err) });
      },
    }).catch(() => undefined);
    if (this.hardStop.signal.aborted) return msg.nak();
    this.notify(job, data);
    await this.ack(msg);
    this.jobLogger({ jobId: job.jobId }).debug('job finished', { outcome: outcome.kind, durationMs });
  }

  private notify(job: JobMessage, data: Uint8Array): void {
    try {
      this.nc.publish(this.names.results(job.daemonId), data);
    } catch (err) {
      this.logger.warn('result notification not sent (the daemon will find the stored result)', { jobId: job.jobId, err: String(err) });
    }
  }

  private async ack(msg: JsMsg): Promise<void> {
    try {
      await msg.ackAck({ timeout: 5000 });
    } catch {
      // not confirmed (disconnect): a redelivery finds the stored result and does not run the node again
    }
  }

  private jobLogger(fields: Record<string, unknown>): NodeLogger {
    const l = this.logger;
    return {
      debug: (msg, f) => l.debug(msg, { ...fields, ...f }),
      info: (msg, f) => l.info(msg, { ...fields, ...f }),
      warn: (msg, f) => l.warn(msg, { ...fields, ...f }),
      error: (msg, f) => l.error(msg, { ...fields, ...f }),
    };
  }
}
