import {
  AckPolicy,
  DiscardPolicy,
  type JetStreamManager,
  type KV,
  type NatsConnection,
  RetentionPolicy,
  StorageType,
  connect,
  nanos,
} from 'nats';
import type { NatsNames } from './subjects.js';

export interface NatsConnectOptions {
  /** `nats://host:4222`, several separated by commas; `nats://user:pass@host` and `nats://token@host` work */
  url: string;
  /** connection name shown by the server (`anchorflow-daemon-<id>`, `anchorflow-worker-<id>`) */
  name?: string;
  /** pause between reconnect attempts (default 1000 ms); attempts never stop */
  reconnectTimeWaitMs?: number;
  /** keep trying when the server is not up yet at start (default true) */
  waitOnFirstConnect?: boolean;
  /** first connection timeout per attempt (default 5000 ms) */
  timeoutMs?: number;
}

/** Connects with reconnection forever: a NATS restart is an outage to wait out, never a reason to exit. */
export async function connectNats(opts: NatsConnectOptions): Promise<NatsConnection> {
  let user: string | undefined;
  let pass: string | undefined;
  let token: string | undefined;
  const servers = opts.url
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const u = new URL(s.includes('://') ? s : `nats://${s}`);
      if (u.username && u.password) {
        user = decodeURIComponent(u.username);
        pass = decodeURIComponent(u.password);
      } else if (u.username) token = decodeURIComponent(u.username);
      return `${u.hostname}:${u.port || '4222'}`;
    });
  if (!servers.length) throw new TypeError('NATS url is empty');
  return connect({
    servers,
    name: opts.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: opts.reconnectTimeWaitMs ?? 1000,
    waitOnFirstConnect: opts.waitOnFirstConnect ?? true,
    timeout: opts.timeoutMs ?? 5000,
    ...(user !== undefined ? { user, pass } : {}),
    ...(token !== undefined ? { token } : {}),
  });
}

export interface JobsStreamOptions {
  /** window in which a re-published job (same msgID) is dropped as a duplicate (default 2 min) */
  duplicateWindowMs?: number;
  /** a job nobody takes is dropped after this (default 7 days) */
  maxAgeMs?: number;
}

export const DEFAULT_DUPLICATE_WINDOW_MS = 120_000;

/** Creates the jobs stream, or brings an existing one to this configuration. Idempotent; daemons and workers both call it. */
export async function ensureJobsStream(jsm: JetStreamManager, names: NatsNames, opts: JobsStreamOptions = {}): Promise<void> {
  const config = {
    name: names.jobsStream,
    subjects: [names.jobsAll],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    duplicate_window: nanos(opts.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS),
    max_age: nanos(opts.maxAgeMs ?? 7 * 86_400_000),
  };
  try {
    await jsm.streams.add(config);
  } catch (err) {
    if (!/already in use/i.test((err as Error).message)) throw err;
    await jsm.streams.update(config.name, config);
  }
}

export interface JobConsumerOptions {
  /** a job not acknowledged (or kept alive with working()) within this is redelivered (default 30 s) */
  ackWaitMs?: number;
  /** JetStream max_deliver of the consumer (default 6: the worker runs a job at most 5 times and reports the 6th delivery as a failure) */
  maxDeliver?: number;
}

/** The durable pull consumer of one node type: every worker serving the type shares it (work is split between them). */
export async function ensureJobConsumer(jsm: JetStreamManager, names: NatsNames, nodeType: string, opts: JobConsumerOptions = {}): Promise<string> {
  const name = names.consumer(nodeType);
  await jsm.consumers.add(names.jobsStream, {
    durable_name: name,
    filter_subject: names.jobs(nodeType),
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(opts.ackWaitMs ?? 30_000),
    max_deliver: opts.maxDeliver ?? 6,
    description: `Anchorflow jobs of node type ${nodeType}`,
  });
  return name;
}

/**
 * The KV bucket where workers leave results (one revision per job). A stored result only matters while
 * a re-published job would be deduplicated (the stream's duplicate window) or while a daemon catches up
 * after a disconnect, so it is kept 15 minutes by default; the first creator of the bucket sets the TTL.
 */
export async function openResultsBucket(nc: NatsConnection, names: NatsNames, ttlMs = 15 * 60_000): Promise<KV> {
  return nc.jetstream().views.kv(names.resultsBucket, { history: 1, ttl: ttlMs });
}

/** Retries an operation that needs the server until it succeeds or the signal aborts (NATS down, JetStream not ready). */
export async function retryUntil<T>(
  op: () => Promise<T>,
  opts: { signal?: AbortSignal; minDelayMs?: number; maxDelayMs?: number; onError?: (err: unknown, attempt: number) => void } = {},
): Promise<T> {
  let delay = opts.minDelayMs ?? 100;
  for (let attempt = 1; ; attempt++) {
    if (opts.signal?.aborted) throw opts.signal.reason;
    try {
      return await op();
    } catch (err) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      opts.onError?.(err, attempt);
      await sleep(delay, opts.signal);
      delay = Math.min(delay * 2, opts.maxDelayMs ?? 2000);
    }
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Resolves `next()` at the next reconnect. A request sent while disconnected is buffered and often
 * gets no reply after the reconnect (the server was restarting): racing it against the reconnect lets
 * the caller retry at once instead of waiting out its timeout.
 */
export function watchReconnects(nc: NatsConnection): { next(): Promise<void>; stop(): void } {
  let release!: () => void;
  let current = new Promise<void>((r) => (release = r));
  let stopped = false;
  void (async () => {
    for await (const s of nc.status()) {
      if (stopped) break;
      if (s.type === 'reconnect') {
        const done = release;
        current = new Promise<void>((r) => (release = r));
        done();
      }
    }
  })().catch(() => undefined);
  return {
    next: () => current,
    stop: () => {
      stopped = true;
    },
  };
}

/** op(), abandoned (rejected) when the connection reconnects first: retry it */
export async function unlessReconnected<T>(op: () => Promise<T>, reconnects: { next(): Promise<void> }): Promise<T> {
  const p = op();
  return Promise.race([p, reconnects.next().then((): never => {
    p.catch(() => undefined);
    throw new Error('NATS reconnected while waiting for a reply; retrying');
  })]);
}

/** true for "nobody is subscribed" replies (503) */
export function isNoResponders(err: unknown): boolean {
  return (err as { code?: string })?.code === '503';
}
