import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { JetStreamClient, JetStreamManager, KV, Msg, NatsConnection, Subscription } from 'nats';
import {
  type ErrorInfo,
  type NodeLogger,
  type PluginState,
  type ResumeInfo,
  NodeError,
  credentialAllowHostsOf,
  TransientNodeError,
  toErrorInfo,
  silentLogger,
} from '@anchorflow/plugin-sdk';
import type { NodeCatalog, NodeJob, NodeJobEnvironment, NodeJobOutcome, NodeTransport } from '@anchorflow/engine';
import {
  DEFAULT_DUPLICATE_WINDOW_MS,
  type JobsStreamOptions,
  ensureJobsStream,
  isNoResponders,
  openResultsBucket,
  retryUntil,
  unlessReconnected,
  watchReconnects,
} from './connection.js';
import {
  type CancelMessage,
  type JobMessage,
  type ResultMessage,
  type RpcReply,
  decodeCredentialsRequest,
  decodeEvaluateRequest,
  decodeProgress,
  decodeResult,
  decodeStateRequest,
  encodeMessage,
} from './messages.js';
import type { RemoteNodeRegistry } from './remote-node-registry.js';
import { DEFAULT_PREFIX, type NatsNames, WIRE_VERSION, assertSubjectToken, natsNames } from './subjects.js';
import { errorFromInfo } from './wire-errors.js';
import { stateFingerprint } from './worker-host.js';

/** Resume tokens of nodes waiting for a worker start with this (the API shows it as the node's resumeToken). */
export const AWAIT_WORKER_TOKEN_PREFIX = 'anchorflow.await-worker.';
/** Plugin-state namespace where the transport keeps waiting nodes (pass `pluginState(TRANSPORT_STATE_PLUGIN)` as `state`). */
export const TRANSPORT_STATE_PLUGIN = '@anchorflow/transport';

export interface NatsTransportOptions {
  nc: NatsConnection;
  /** this daemon's stable id (a subject token): results, progress and RPC for its jobs are addressed to it */
  daemonId: string;
  registry: RemoteNodeRegistry;
  /** to find which plugin a node type belongs to (plugin state is scoped per plugin) */
  catalog: NodeCatalog;
  prefix?: string;
  logger?: NodeLogger;
  /**
   * a node whose type has no live worker waits (status `waiting`) this long for one, then fails with
   * NO_WORKER (default 10 minutes)
   */
  waitForWorkerMs?: number;
  /** a waiting node is re-dispatched at least this often even when no announcement wakes it (default 60 s) */
  workerRecheckMs?: number;
  /**
   * durable record of nodes waiting for a worker (the daemon's plugin state for TRANSPORT_STATE_PLUGIN):
   * waiting survives a daemon restart and the node is woken when a worker appears. In memory without it.
   */
  state?: PluginState;
  /** pending jobs look for their result in the results bucket this often (default 15 s) and after every reconnect */
  sweepIntervalMs?: number;
  /** how long a PubAck may take (default 5 s; publishing is retried until it succeeds or the attempt is abandoned) */
  publishTimeoutMs?: number;
  stream?: JobsStreamOptions;
  /** results stay in the bucket this long (default 15 minutes; must exceed the duplicate window) */
  resultTtlMs?: number;
  /**
   * key of the per-job secrets (HMAC of the jobId); default: created once and kept in `state` (so a
   * restarted daemon still accepts results of jobs it published before), random per process without it
   */
  jobKey?: Uint8Array;
}

/** key under which the job-secret key is kept in the transport's plugin state */
const JOB_KEY_STATE = 'job-key';

/** every string in the params (credential references are strings somewhere in them) */
function stringsIn(value: unknown, out = new Set<string>(), depth = 0): Set<string> {
  if (depth > 64) return out;
  if (typeof value === 'string') out.add(value);
  else if (Array.isArray(value)) for (const v of value) stringsIn(v, out, depth + 1);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) stringsIn(v, out, depth + 1);
  return out;
}

interface PendingJob {
  jobId: string;
  job: NodeJob;
  env: NodeJobEnvironment;
  /** the encoded job message */
  data: Uint8Array;
  resolve(outcome: NodeJobOutcome): void;
  reject(err: unknown): void;
  /** stops publish retries once settled */
  done: AbortController;
  firstPublishedAt?: number;
  lastPublishedAt?: number;
  duplicate: boolean;
  settled: boolean;
}

interface Deferral {
  nodeType: string;
  /** epoch ms when the node started waiting */
  since: number;
  token: string;
  /** the resume the node had when it was first deferred (the one its plugin must see) */
  resume?: ResumeInfo;
}

export interface EngineSignaller {
  signal(token: string, data?: unknown): Promise<unknown>;
}

const fingerprint = (v: unknown) => createHash('sha256').update(JSON.stringify(v)).digest('base64url').slice(0, 16);

/**
 * Daemon side of remote node execution (NodeTransport over NATS JetStream).
 *
 * - A job is published on `<p>.v1.jobs.<nodeType>` (work-queue stream) with msgID = jobId
 *   (`<idempotencyKey>:<attempt>:<resume fingerprint>`): a daemon that re-runs an in-flight node after a
 *   crash re-publishes the same id, which JetStream drops, and the result is then read from the results
 *   bucket where the worker left it.
 * - Results arrive on `<p>.v1.results.<daemonId>`; a result missed during a disconnect is found in the
 *   bucket by the sweep. Progress is forwarded; the worker's state/credentials/evaluate requests are
 *   served for jobs in flight only, through the job's own environment.
 * - An abandoned attempt (cancel, timeout, failed execution) is cancelled on the worker; a daemon shutdown
 *   is not (the worker finishes and leaves the result for the restarted daemon).
 * - With no live worker for the type, the node returns a suspension with a resume token starting with
 *   AWAIT_WORKER_TOKEN_PREFIX: the execution shows `waiting`; when a worker announces the type the node is
 *   signalled and re-dispatched (with the resume it had before, if any); after `waitForWorkerMs` it fails
 *   with NO_WORKER.
 */
export class NatsTransport implements NodeTransport {
  readonly names: NatsNames;
  private readonly nc: NatsConnection;
  private readonly js: JetStreamClient;
  private jsm?: JetStreamManager;
  private kv?: KV;
  private readonly logger: NodeLogger;
  private readonly pending = new Map<string, PendingJob>();
  /** jobIds settled in this process (a second dispatch of one within the duplicate window gets a fresh id) */
  private readonly recent = new Map<string, number>();
  private readonly deferrals = new Map<string, Deferral>();
  private readonly subs: Subscription[] = [];
  private sweepTimer?: NodeJS.Timeout;
  private engine?: EngineSignaller;
  private started = false;
  private stopped = false;
  private unsubscribeRegistry?: () => void;
  private reconnects?: ReturnType<typeof watchReconnects>;
  private readonly waitForWorkerMs: number;
  private readonly recheckMs: number;
  private readonly sweepMs: number;
  private readonly duplicateWindowMs: number;
  /** jobs published to JetStream by this daemon (first publication of each job id), by node type */
  readonly dispatched = new Map<string, number>();
  private jobKey?: Uint8Array;

  constructor(private readonly opts: NatsTransportOptions) {
    assertSubjectToken(opts.daemonId, 'daemon id');
    this.names = natsNames(opts.prefix ?? DEFAULT_PREFIX);
    this.nc = opts.nc;
    this.js = opts.nc.jetstream();
    this.logger = opts.logger ?? silentLogger;
    this.waitForWorkerMs = opts.waitForWorkerMs ?? 600_000;
    this.recheckMs = opts.workerRecheckMs ?? 60_000;
    this.sweepMs = opts.sweepIntervalMs ?? 15_000;
    this.duplicateWindowMs = opts.stream?.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS;
  }

  /**
   * JetStream's figures for the consumer of each node type (shared by all daemons and workers): jobs
   * redelivered (a worker did not acknowledge in time: crashed, stuck), waiting, delivered and not yet
   * acknowledged. Types without a consumer yet are left out. For metrics; one request per type.
   */
  async consumerStats(nodeTypes: readonly string[]): Promise<Array<{ nodeType: string; redelivered: number; pending: number; ackPending: number }>> {
    const jsm = this.jsm;
    if (!jsm) return [];
    const out = await Promise.all(nodeTypes.map(async (nodeType) => {
      try {
        const info = await jsm.consumers.info(this.names.jobsStream, this.names.consumer(nodeType));
        return { nodeType, redelivered: info.num_redelivered, pending: info.num_pending, ackPending: info.num_ack_pending };
      } catch {
        return undefined;
      }
    }));
    return out.filter((x): x is NonNullable<typeof x> => x !== undefined);
  }

  /** lets the transport wake nodes waiting for a worker (`engine.signal(token)`) */
  attachEngine(engine: EngineSignaller): void {
    this.engine = engine;
  }

  /** ensures the stream and the results bucket (retrying while NATS is unreachable) and subscribes */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.started) return;
    const onError = (what: string) => (err: unknown, attempt: number) => {
      if (attempt === 1 || attempt % 10 === 0) this.logger.warn(`NATS not ready (${what}); retrying`, { err: String(err) });
    };
    this.jsm = await retryUntil(() => this.nc.jetstreamManager(), { signal, onError: onError('JetStream') });
    await retryUntil(() => ensureJobsStream(this.jsm!, this.names, this.opts.stream), { signal, onError: onError('jobs stream') });
    this.kv = await retryUntil(() => openResultsBucket(this.nc, this.names, this.opts.resultTtlMs), { signal, onError: onError('results bucket') });
    this.jobKey = await this.loadJobKey();
    const sub = (subject: string, handler: (msg: Msg) => void | Promise<void>) => {
      this.subs.push(
        this.nc.subscribe(subject, {
          callback: (err, msg) => {
            if (err) return this.logger.warn('subscription error', { subject, err: String(err) });
            Promise.resolve()
              .then(() => handler(msg))
              .catch((e) => this.logger.error('message handling failed', { subject: msg.subject, err: String(e) }));
          },
        }),
      );
    };
    sub(this.names.results(this.opts.daemonId), (m) => this.onResult(m.data, 'notification'));
    sub(this.names.progress(this.opts.daemonId), (m) => this.onProgress(m));
    sub(this.names.rpcAll(this.opts.daemonId), (m) => this.onRpc(m));
    await this.nc.flush();
    this.unsubscribeRegistry = this.opts.registry.onAvailable((type) => void this.wake(type));
    this.reconnects = watchReconnects(this.nc);
    this.sweepTimer = setInterval(() => void this.sweep(false), Math.max(1000, Math.min(this.sweepMs, 60_000)));
    this.sweepTimer.unref();
    void (async () => {
      for await (const s of this.nc.status()) {
        if (this.stopped) break;
        if (s.type === 'reconnect') {
          this.logger.info('NATS reconnected; checking results of jobs in flight', { pending: this.pending.size });
          void this.sweep(true);
        } else if (s.type === 'disconnect') this.logger.warn('NATS disconnected; jobs in flight keep waiting', { pending: this.pending.size });
      }
    })().catch(() => undefined);
    this.started = true;
    // nodes that were waiting before a restart and whose worker is already there
    for (const w of this.opts.registry.liveWorkers()) for (const t of w.nodeTypes) void this.wake(t);
  }

  private async loadJobKey(): Promise<Uint8Array> {
    if (this.opts.jobKey) return this.opts.jobKey;
    const state = this.opts.state;
    if (!state) return randomBytes(32);
    const stored = await state.update<string>(JOB_KEY_STATE, (current) => current ?? randomBytes(32).toString('base64url'));
    return Buffer.from(stored!, 'base64url');
  }

  /** the secret of a job: only the job message carries it, so only a worker that pulled the job knows it */
  secretOf(jobId: string): string {
    return createHmac('sha256', this.jobKey!).update(jobId).digest('base64url');
  }

  private secretMatches(jobId: string, secret: string): boolean {
    const expected = Buffer.from(this.secretOf(jobId));
    const given = Buffer.from(secret);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** stops listening; jobs still pending are left to the worker (their results stay in the bucket) */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.sweepTimer);
    this.unsubscribeRegistry?.();
    this.reconnects?.stop();
    for (const s of this.subs.splice(0)) s.unsubscribe();
    for (const p of [...this.pending.values()]) this.settle(p, { error: new TransientNodeError('the NATS transport stopped', 'TRANSPORT_STOPPED') });
  }

  get inFlight(): number {
    return this.pending.size;
  }

  async run(job: NodeJob, env: NodeJobEnvironment): Promise<NodeJobOutcome> {
    if (env.signal.aborted) throw env.signal.reason;
    if (!this.started || this.stopped) throw new TransientNodeError('the NATS transport is not running', 'TRANSPORT_NOT_STARTED');
    const base = `${job.idempotencyKey}:${job.attempt}`;
    const live = this.opts.registry.hasLiveWorker(job.nodeType);
    // a node re-dispatched after waiting for a worker always comes with a resume (the engine's wake-up):
    // the durable record is read only then, not on every dispatch
    const deferral = job.resume !== undefined || !live ? await this.getDeferral(job.nodeType, base) : undefined;
    if (!live) return this.defer(job, base, deferral);
    const resume = deferral ? deferral.resume : job.resume;
    if (deferral) await this.deleteDeferral(deferral.nodeType, base);
    let jobId = `${base}:${resume ? fingerprint(resume) : '-'}`;
    const settledAt = this.recent.get(jobId);
    // this very dispatch already ran in this process: a new dispatch (e.g. the same resume twice) must not be deduplicated
    if (settledAt !== undefined && Date.now() - settledAt < this.duplicateWindowMs) jobId = `${jobId}:${randomUUID().slice(0, 8)}`;
    const message: JobMessage = {
      v: WIRE_VERSION,
      jobId,
      daemonId: this.opts.daemonId,
      executionId: job.executionId,
      workflowId: job.workflowId,
      nodeId: job.nodeId,
      nodeType: job.nodeType,
      attempt: job.attempt,
      idempotencyKey: job.idempotencyKey,
      params: job.params,
      ...(job.input !== undefined ? { input: job.input } : {}),
      ...(resume ? { resume } : {}),
      ...(job.sources?.length ? { sources: [...job.sources] } : {}),
      ...(job.deadline !== undefined ? { deadline: job.deadline } : {}),
      publishedAt: Date.now(),
      secret: this.secretOf(jobId),
    };
    let data: Uint8Array;
    try {
      data = encodeMessage(message);
    } catch (err) {
      throw new NodeError(`the job for ${job.nodeType} cannot be sent to a worker: its params or input are not JSON (${(err as Error).message})`, 'JOB_NOT_SERIALIZABLE', undefined, { cause: err });
    }
    const max = this.nc.info?.max_payload;
    if (max && data.length > max) {
      throw new NodeError(`the job for ${job.nodeType} is ${data.length} bytes; NATS accepts at most ${max} (max_payload)`, 'JOB_TOO_LARGE');
    }
    return new Promise<NodeJobOutcome>((resolve, reject) => {
      const p: PendingJob = { jobId, job, env, data, resolve, reject, done: new AbortController(), duplicate: false, settled: false };
      this.pending.set(jobId, p);
      const onAbort = () => {
        const reason = env.signal.reason as { code?: string; message?: string } | undefined;
        // a daemon shutdown leaves the job to the worker: the restarted daemon picks up its result
        if (reason?.code !== 'SHUTTING_DOWN') this.cancelOnWorker(p, reason?.message ?? 'abandoned by the daemon');
        this.settle(p, { error: env.signal.reason });
      };
      env.signal.addEventListener('abort', onAbort, { once: true });
      p.done.signal.addEventListener('abort', () => env.signal.removeEventListener('abort', onAbort), { once: true });
      void this.publish(p);
    });
  }

  // ------------------------------------------------------------------ publishing and results

  private async publish(p: PendingJob): Promise<void> {
    const data = p.data;
    const subject = this.names.jobs(p.job.nodeType);
    try {
      const ack = await retryUntil(() => unlessReconnected(() => this.js.publish(subject, data, { msgID: p.jobId, timeout: this.opts.publishTimeoutMs ?? 5000 }), this.reconnects!), {
        signal: p.done.signal,
        maxDelayMs: 1000,
        onError: (err, attempt) => {
          if (attempt === 1 || attempt % 10 === 0) this.logger.warn('job not published yet; retrying', { jobId: p.jobId, nodeType: p.job.nodeType, err: String(err) });
          // the stream vanished (a NATS restart without its store): create it again
          if (isNoResponders(err) && this.jsm) void ensureJobsStream(this.jsm, this.names, this.opts.stream).catch(() => undefined);
          if ((err as { code?: string }).code === 'MAX_PAYLOAD_EXCEEDED') {
            this.settle(p, { error: new NodeError(`the job for ${p.job.nodeType} exceeds the NATS max_payload`, 'JOB_TOO_LARGE', undefined, { cause: err }) });
          }
        },
      });
      const now = Date.now();
      if (p.firstPublishedAt === undefined && !ack.duplicate) this.dispatched.set(p.job.nodeType, (this.dispatched.get(p.job.nodeType) ?? 0) + 1);
      p.firstPublishedAt ??= now;
      p.lastPublishedAt = now;
      if (ack.duplicate) {
        // published before (by this daemon before a restart, or a moment ago): the result may already be waiting
        p.duplicate = true;
        this.logger.info('job was already published; looking for its result', { jobId: p.jobId });
        await this.lookUpResult(p);
      }
    } catch (err) {
      if (!p.settled) this.logger.warn('job publishing stopped', { jobId: p.jobId, err: String(err) });
    }
  }

  private async lookUpResult(p: PendingJob): Promise<boolean> {
    if (!this.kv || p.settled) return false;
    try {
      const entry = await this.kv.get(this.names.resultKey(p.jobId));
      if (!entry || entry.operation !== 'PUT' || !entry.value.length) return false;
      this.onResult(entry.value, 'results bucket');
      return true;
    } catch (err) {
      this.logger.debug('results bucket not readable now', { jobId: p.jobId, err: String(err) });
      return false;
    }
  }

  /** jobs in flight whose result notification may have been missed (disconnect) look in the bucket */
  private async sweep(all: boolean): Promise<void> {
    const now = Date.now();
    for (const p of [...this.pending.values()]) {
      if (p.settled || p.lastPublishedAt === undefined) continue;
      if (!all && now - p.lastPublishedAt < this.sweepMs) continue;
      if (await this.lookUpResult(p)) continue;
      // a duplicate whose first publication was consumed without a result (e.g. lost with a NATS store):
      // once the duplicate window is over, publishing again runs it again (same idempotency key)
      if (p.duplicate && p.firstPublishedAt !== undefined && now - p.firstPublishedAt > this.duplicateWindowMs && now - p.lastPublishedAt > this.duplicateWindowMs) {
        this.logger.warn('no result for a job published before; publishing it again', { jobId: p.jobId });
        p.duplicate = false;
        p.lastPublishedAt = now;
        void this.publish(p);
      }
    }
    for (const [id, at] of this.recent) if (now - at > this.duplicateWindowMs) this.recent.delete(id);
  }

  private onResult(data: Uint8Array, via: string): void {
    const decoded = decodeResult(data);
    if (!decoded.ok) return this.logger.warn('rejected a malformed job result', { via, reason: decoded.reason });
    const r: ResultMessage = decoded.value;
    // a result is bound to the job's secret: a client that only saw the job id cannot inject one
    if (!this.secretMatches(r.jobId, r.secret)) return this.logger.warn('rejected a job result with a wrong job secret', { via, jobId: r.jobId, workerId: r.workerId });
    const p = this.pending.get(r.jobId);
    if (!p) return this.logger.debug('result for a job not in flight here (late or duplicate)', { jobId: r.jobId, via });
    if (r.outcome.kind === 'error') this.settle(p, { error: errorFromInfo(r.outcome.error) });
    else if (r.outcome.kind === 'output') this.settle(p, { outcome: { kind: 'output', outputs: r.outcome.outputs } });
    else this.settle(p, { outcome: { kind: 'suspend', ...(r.outcome.until !== undefined ? { until: r.outcome.until } : {}), ...(r.outcome.token ? { token: r.outcome.token } : {}) } });
  }

  private settle(p: PendingJob, r: { outcome: NodeJobOutcome } | { error: unknown }): void {
    if (p.settled) return;
    p.settled = true;
    this.pending.delete(p.jobId);
    this.recent.set(p.jobId, Date.now());
    p.done.abort();
    if ('outcome' in r) p.resolve(r.outcome);
    else p.reject(r.error);
  }

  private cancelOnWorker(p: PendingJob, reason: string): void {
    try {
      this.nc.publish(this.names.cancel(p.job.nodeType), encodeMessage({ v: WIRE_VERSION, jobId: p.jobId, reason } satisfies CancelMessage));
    } catch (err) {
      this.logger.warn('cancel not sent to the worker', { jobId: p.jobId, err: String(err) });
    }
  }

  private onProgress(msg: Msg): void {
    const decoded = decodeProgress(msg.data);
    if (!decoded.ok) return this.logger.warn('rejected a malformed progress message', { reason: decoded.reason });
    const p = this.pending.get(decoded.value.jobId);
    if (!p || !this.secretMatches(decoded.value.jobId, decoded.value.secret)) return;
    try {
      p.env.progress(decoded.value.data);
    } catch (err) {
      this.logger.warn('progress listener failed', { jobId: p.jobId, err: String(err) });
    }
  }

  // ------------------------------------------------------------------ worker → daemon requests

  private async onRpc(msg: Msg): Promise<void> {
    const op = msg.subject.slice(msg.subject.lastIndexOf('.') + 1);
    const reply = (r: RpcReply) => {
      if (!msg.reply) return;
      try {
        msg.respond(encodeMessage(r));
      } catch (err) {
        // e.g. a value that is not JSON: say so instead of leaving the worker to time out
        msg.respond(encodeMessage({ v: WIRE_VERSION, ok: false, error: { message: `reply not sendable: ${(err as Error).message}`, code: 'RPC_REPLY_FAILED', retryable: false } } satisfies RpcReply));
      }
    };
    const fail = (error: ErrorInfo) => reply({ v: WIRE_VERSION, ok: false, error });
    const decoded = op === 'state' ? decodeStateRequest(msg.data) : op === 'credentials' ? decodeCredentialsRequest(msg.data) : op === 'evaluate' ? decodeEvaluateRequest(msg.data) : undefined;
    if (!decoded) return fail({ message: `unknown RPC operation "${op}"`, code: 'BAD_REQUEST', retryable: false });
    if (!decoded.ok) {
      this.logger.warn('rejected a malformed worker request', { op, reason: decoded.reason });
      return fail({ message: decoded.reason, code: 'BAD_REQUEST', retryable: false });
    }
    const p = this.pending.get(decoded.value.jobId);
    // only jobs in flight here may read state or credentials, and only with the job's secret (the same
    // answer either way: a caller without the secret learns nothing about which jobs run)
    if (!p || !this.secretMatches(decoded.value.jobId, decoded.value.secret)) return fail({ message: `job ${decoded.value.jobId} is not in flight on daemon ${this.opts.daemonId}`, code: 'JOB_NOT_ACTIVE', retryable: true });
    try {
      const value = await this.serve(p, op, decoded.value);
      // a credential's host scope travels beside its data (a symbol property does not survive JSON)
      const scope = op === 'credentials' ? credentialAllowHostsOf(value) : undefined;
      reply({ v: WIRE_VERSION, ok: true, ...(value !== undefined ? { value } : {}), ...(scope ? { scope: { credential: scope.credential, entries: [...scope.entries] } } : {}) });
    } catch (err) {
      fail(toErrorInfo(err));
    }
  }

  private async serve(p: PendingJob, op: string, req: unknown): Promise<unknown> {
    if (op === 'credentials') {
      const ref = (req as { ref: string }).ref;
      // a worker gets the credentials its node's params name, nothing else
      if (!stringsIn(p.job.params).has(ref)) {
        this.logger.warn('refused a credential the node does not reference', { jobId: p.jobId, nodeType: p.job.nodeType, ref });
        throw new NodeError(`credential "${ref}" is not referenced by the params of node ${p.job.nodeId} (${p.job.nodeType})`, 'CREDENTIAL_NOT_REFERENCED', { ref });
      }
      return p.env.credentials.get(ref);
    }
    if (op === 'evaluate') {
      const r = req as { expression: string; input?: unknown };
      return p.env.evaluate(r.expression, r.input);
    }
    const plugin = this.opts.catalog.pluginOf(p.job.nodeType) ?? p.job.nodeType.split('.')[0];
    const state = p.env.state(plugin);
    const r = req as { op: string; key: string; value?: unknown; prefix: string; limit?: number; after?: string; expect: string };
    switch (r.op) {
      case 'get':
        return state.get(r.key);
      case 'set':
        return state.set(r.key, r.value);
      case 'delete':
        return state.delete(r.key);
      case 'list':
        return state.list(r.prefix, { ...(r.limit !== undefined ? { limit: r.limit } : {}), ...(r.after !== undefined ? { after: r.after } : {}) });
      case 'cas':
        await state.update(r.key, (current) => {
          if (stateFingerprint(current) !== r.expect) throw new TransientNodeError(`state key "${r.key}" changed meanwhile`, 'STATE_CONFLICT');
          return r.value;
        });
        return undefined;
    }
    throw new NodeError(`unknown state operation ${r.op}`, 'BAD_REQUEST');
  }

  // ------------------------------------------------------------------ waiting for a worker

  private deferralKey(nodeType: string, base: string): string {
    return `await:${nodeType}:${base}`;
  }

  private async getDeferral(nodeType: string, base: string): Promise<Deferral | undefined> {
    const key = this.deferralKey(nodeType, base);
    const mem = this.deferrals.get(key);
    if (mem || !this.opts.state) return mem;
    try {
      return await this.opts.state.get<Deferral>(key);
    } catch (err) {
      this.logger.warn('could not read a waiting record', { key, err: String(err) });
      return undefined;
    }
  }

  private async deleteDeferral(nodeType: string, base: string): Promise<void> {
    const key = this.deferralKey(nodeType, base);
    this.deferrals.delete(key);
    await this.opts.state?.delete(key).catch((err) => this.logger.warn('could not delete a waiting record', { key, err: String(err) }));
  }

  private async defer(job: NodeJob, base: string, existing: Deferral | undefined): Promise<NodeJobOutcome> {
    const now = Date.now();
    const since = existing?.since ?? now;
    if (now - since >= this.waitForWorkerMs) {
      await this.deleteDeferral(job.nodeType, base);
      throw new NodeError(
        `no worker serving node type ${job.nodeType} was available for ${Math.round((now - since) / 1000)} s (limit ${Math.round(this.waitForWorkerMs / 1000)} s): start a worker with the plugin that provides it`,
        'NO_WORKER',
        { nodeType: job.nodeType, waitedMs: now - since },
      );
    }
    const d: Deferral = existing ?? { nodeType: job.nodeType, since, token: `${AWAIT_WORKER_TOKEN_PREFIX}${randomUUID()}`, ...(job.resume ? { resume: job.resume } : {}) };
    const key = this.deferralKey(job.nodeType, base);
    this.deferrals.set(key, d);
    if (!existing) {
      // durable before the engine records the wait, so a restarted daemon still knows what the token means
      await this.opts.state?.set(key, d);
      this.logger.warn('no live worker for this node type; the node waits for one', { nodeType: job.nodeType, executionId: job.executionId, nodeId: job.nodeId, limitMs: this.waitForWorkerMs });
    }
    return { kind: 'suspend', until: Math.min(since + this.waitForWorkerMs, now + this.recheckMs), token: d.token };
  }

  /** a worker for the type appeared: signal every node waiting for it */
  private async wake(nodeType: string): Promise<void> {
    if (!this.engine) return;
    const prefix = `await:${nodeType}:`;
    const found = new Map<string, Deferral>();
    for (const [k, d] of this.deferrals) if (k.startsWith(prefix)) found.set(k, d);
    if (this.opts.state) {
      try {
        for (const { key, value } of await this.opts.state.list<Deferral>(prefix)) found.set(key, value);
      } catch (err) {
        this.logger.warn('could not list waiting nodes', { nodeType, err: String(err) });
      }
    }
    for (const [key, d] of found) {
      try {
        await this.engine.signal(d.token);
      } catch (err) {
        if ((err as { code?: string }).code === 'NOT_FOUND') {
          // not waiting on it any more: being re-dispatched right now (run() reads and clears the record),
          // or its execution ended; records of the latter are dropped once they cannot matter
          if (Date.now() - d.since > 2 * this.waitForWorkerMs) await this.deleteDeferral(nodeType, key.slice(prefix.length));
        } else this.logger.warn('could not wake a node waiting for a worker', { nodeType, err: String(err) });
      }
    }
  }
}
