import { createHash } from 'node:crypto';
import type { NatsConnection } from 'nats';
import { type CredentialsAccessor, NodeError, type NodeHost, type NodeLogger, type OutboundFetch, type PluginState, TransientNodeError, withCredentialAllowHosts } from '@anchorflow/plugin-sdk';
import { isNoResponders } from './connection.js';
import { type CredentialsRequest, type EvaluateRequest, type JobMessage, type ProgressMessage, type RpcReply, type StateRequest, decodeRpcReply, encodeMessage } from './messages.js';
import { type NatsNames, type RpcOperation, WIRE_VERSION } from './subjects.js';
import { errorFromInfo } from './wire-errors.js';

/** Fingerprint of a state value as both sides compute it (compare-and-set of `state.update`). */
export function stateFingerprint(value: unknown): string {
  return createHash('sha256').update(value === undefined ? '\u0000undefined' : JSON.stringify(value)).digest('base64url');
}

export interface RemoteJobHostOptions {
  nc: NatsConnection;
  names: NatsNames;
  job: JobMessage;
  signal: AbortSignal;
  logger: NodeLogger;
  /** per request (default 10 s) */
  rpcTimeoutMs?: number;
  /** attempts of state.update before giving up under contention (default 20) */
  maxUpdateAttempts?: number;
  /** ctx.fetch (the worker's outbound policy); the SDK's default guarded fetch when absent */
  fetch?: OutboundFetch;
}

/**
 * What a worker gives `invokeNode` for a job: credentials, plugin state and expression evaluation are
 * asked of the daemon that owns the job (request/reply on `<p>.v1.rpc.<daemonId>.*`); progress is
 * published to it. A daemon that cannot be reached is a TransientNodeError (the attempt is retried).
 */
export function remoteJobHost(opts: RemoteJobHostOptions): NodeHost {
  const { nc, names, job } = opts;
  const timeout = opts.rpcTimeoutMs ?? 10_000;
  const callReply = async (op: RpcOperation, body: object): Promise<RpcReply & { ok: true }> => {
    if (opts.signal.aborted) throw opts.signal.reason;
    let reply;
    try {
      reply = await nc.request(names.rpc(job.daemonId, op), encodeMessage({ v: WIRE_VERSION, jobId: job.jobId, secret: job.secret, ...body }), { timeout });
    } catch (err) {
      if (isNoResponders(err)) throw new TransientNodeError(`daemon ${job.daemonId} is not reachable over NATS (${op})`, 'DAEMON_UNREACHABLE', undefined, { cause: err });
      throw new TransientNodeError(`daemon ${job.daemonId} did not answer a ${op} request within ${timeout} ms`, 'RPC_TIMEOUT', undefined, { cause: err });
    }
    const decoded = decodeRpcReply(reply.data);
    if (!decoded.ok) throw new TransientNodeError(`daemon ${job.daemonId} sent a malformed ${op} reply: ${decoded.reason}`, 'RPC_MALFORMED');
    if (!decoded.value.ok) throw errorFromInfo(decoded.value.error);
    return decoded.value;
  };
  const call = async (op: RpcOperation, body: object): Promise<unknown> => (await callReply(op, body)).value;

  const credentials: CredentialsAccessor = {
    get: async <T extends object>(ref: string) => {
      const reply = await callReply('credentials', { ref } satisfies Omit<CredentialsRequest, 'v' | 'jobId' | 'secret'>);
      const data = reply.value as T;
      return reply.scope && data !== null && typeof data === 'object' ? withCredentialAllowHosts(data, reply.scope.credential, reply.scope.entries) : data;
    },
  };

  const stateCall = (body: StateRequest extends infer R ? (R extends StateRequest ? Omit<R, 'v' | 'jobId' | 'secret'> : never) : never) => call('state', body);
  const state: PluginState = {
    get: async <T>(key: string) => (await stateCall({ op: 'get', key })) as T | undefined,
    set: async (key, value) => void (await stateCall({ op: 'set', key, value })),
    delete: async (key) => void (await stateCall({ op: 'delete', key })),
    list: async <T>(prefix: string, options: { limit?: number; after?: string } = {}) =>
      (await stateCall({ op: 'list', prefix, ...(options.limit !== undefined ? { limit: options.limit } : {}), ...(options.after !== undefined ? { after: options.after } : {}) })) as Array<{ key: string; value: T }>,
    update: async <T>(key: string, fn: (current: T | undefined) => T | undefined) => {
      const max = opts.maxUpdateAttempts ?? 20;
      for (let attempt = 1; attempt <= max; attempt++) {
        const current = (await stateCall({ op: 'get', key })) as T | undefined;
        const next = fn(current === undefined ? undefined : structuredClone(current));
        try {
          await stateCall({ op: 'cas', key, expect: stateFingerprint(current), ...(next !== undefined ? { value: next } : {}) });
          return next;
        } catch (err) {
          if ((err as NodeError).code !== 'STATE_CONFLICT') throw err;
        }
      }
      throw new TransientNodeError(`state.update("${key}") lost ${max} races in a row`, 'STATE_CONTENDED');
    },
    log: () => {
      // services in workers have it (service-rpc); a node's job RPC does not carry it yet
      throw new NodeError('append-only logs are not available to nodes running in a plugin worker (use a plugin service)', 'LOG_UNAVAILABLE');
    },
  };

  return {
    signal: opts.signal,
    logger: opts.logger,
    credentials,
    state,
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
    evaluate: async (expression, input) => call('evaluate', { expression, ...(input !== undefined ? { input } : {}) } satisfies Omit<EvaluateRequest, 'v' | 'jobId' | 'secret'>),
    progress: (data) => {
      try {
        nc.publish(names.progress(job.daemonId), encodeMessage({ v: WIRE_VERSION, jobId: job.jobId, secret: job.secret, data } satisfies ProgressMessage));
      } catch (err) {
        opts.logger.warn('progress not sent', { jobId: job.jobId, err: String(err) });
      }
    },
  };
}
