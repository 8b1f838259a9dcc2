import type { Msg, NatsConnection, Subscription } from 'nats';
import type { NamedLeases } from '@anchorflow/engine';
import { type AppendOnlyLog, type CredentialsAccessor, type NodeError, type NodeLogger, type PluginState, TransientNodeError, toErrorInfo } from '@anchorflow/plugin-sdk';
import { isNoResponders } from './connection.js';
import { type Decoded, type RpcReply, decodeRpcReply, encodeMessage } from './messages.js';
import { type NatsNames, WIRE_VERSION } from './subjects.js';
import { errorFromInfo } from './wire-errors.js';
import { stateFingerprint } from './worker-host.js';

/**
 * What plugin services in a worker process ask of the daemons (any daemon answers: queue group
 * `daemons` on `<p>.v1.services.rpc`): their plugin's durable state, named leases (one-per-cluster
 * services), resuming a suspended node, credentials. Version 1 messages, validated on receipt.
 */
export type ServiceRpcRequest =
  | { v: typeof WIRE_VERSION; op: 'state'; plugin: string; action: 'get'; key: string }
  | { v: typeof WIRE_VERSION; op: 'state'; plugin: string; action: 'delete'; key: string }
  | { v: typeof WIRE_VERSION; op: 'state'; plugin: string; action: 'set'; key: string; value: unknown }
  | { v: typeof WIRE_VERSION; op: 'state'; plugin: string; action: 'list'; prefix: string; limit?: number; after?: string }
  /** compare-and-set: applied only when the stored value's fingerprint still equals `expect` (value absent deletes) */
  | { v: typeof WIRE_VERSION; op: 'state'; plugin: string; action: 'cas'; key: string; expect: string; value?: unknown }
  | { v: typeof WIRE_VERSION; op: 'log'; plugin: string; stream: string; action: 'append'; entries: unknown[]; expectedLength?: number; checkpoint?: Record<string, unknown> }
  | { v: typeof WIRE_VERSION; op: 'log'; plugin: string; stream: string; action: 'read'; from?: number; limit?: number }
  | { v: typeof WIRE_VERSION; op: 'log'; plugin: string; stream: string; action: 'length' }
  | { v: typeof WIRE_VERSION; op: 'lease'; action: 'acquire'; name: string; holder: string; ttlMs: number }
  | { v: typeof WIRE_VERSION; op: 'lease'; action: 'release'; name: string; holder: string }
  | { v: typeof WIRE_VERSION; op: 'lease'; action: 'holder'; name: string }
  | { v: typeof WIRE_VERSION; op: 'resume'; token: string; data?: unknown }
  | { v: typeof WIRE_VERSION; op: 'credentials'; ref: string };

const str = (o: Record<string, unknown>, k: string): boolean => typeof o[k] === 'string' && (o[k] as string).length > 0 && (o[k] as string).length <= 1024;

/** checks a request's shape; the reason names the first problem */
export function decodeServiceRpcRequest(data: Uint8Array): Decoded<ServiceRpcRequest> {
  let m: unknown;
  try {
    m = JSON.parse(new TextDecoder().decode(data));
  } catch {
    return { ok: false, reason: 'service request: not JSON' };
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return { ok: false, reason: 'service request: not an object' };
  const o = m as Record<string, unknown>;
  if (o.v !== WIRE_VERSION) return { ok: false, reason: `service request: v must be ${WIRE_VERSION}` };
  const bad = (what: string): Decoded<ServiceRpcRequest> => ({ ok: false, reason: `service request (${String(o.op)}${o.action ? ` ${String(o.action)}` : ''}): ${what}` });
  switch (o.op) {
    case 'state':
      if (!str(o, 'plugin')) return bad('plugin must be a non-empty string');
      if (o.action === 'list') {
        if (typeof o.prefix !== 'string') return bad('prefix must be a string');
        if (o.limit !== undefined && (!Number.isInteger(o.limit) || (o.limit as number) < 0)) return bad('limit must be a non-negative integer');
        if (o.after !== undefined && typeof o.after !== 'string') return bad('after must be a string');
      } else if (['get', 'delete', 'set', 'cas'].includes(o.action as string)) {
        if (!str(o, 'key')) return bad('key must be a non-empty string');
        if (o.action === 'cas' && typeof o.expect !== 'string') return bad('expect must be a string');
      } else return bad('action must be get, set, delete, list or cas');
      break;
    case 'log': {
      if (!str(o, 'plugin')) return bad('plugin must be a non-empty string');
      if (!str(o, 'stream')) return bad('stream must be a non-empty string');
      const count = (k: string): boolean => o[k] === undefined || (Number.isInteger(o[k]) && (o[k] as number) >= 0);
      if (o.action === 'append') {
        if (!Array.isArray(o.entries)) return bad('entries must be a list');
        if (!count('expectedLength')) return bad('expectedLength must be a non-negative integer');
        if (o.checkpoint !== undefined && (typeof o.checkpoint !== 'object' || o.checkpoint === null || Array.isArray(o.checkpoint))) return bad('checkpoint must be an object');
      } else if (o.action === 'read') {
        if (!count('from')) return bad('from must be a non-negative integer');
        if (!count('limit')) return bad('limit must be a non-negative integer');
      } else if (o.action !== 'length') return bad('action must be append, read or length');
      break;
    }
    case 'lease':
      if (!str(o, 'name')) return bad('name must be a non-empty string');
      if (o.action === 'acquire') {
        if (!str(o, 'holder')) return bad('holder must be a non-empty string');
        if (!Number.isInteger(o.ttlMs) || (o.ttlMs as number) < 1) return bad('ttlMs must be a positive integer');
      } else if (o.action === 'release') {
        if (!str(o, 'holder')) return bad('holder must be a non-empty string');
      } else if (o.action !== 'holder') return bad('action must be acquire, release or holder');
      break;
    case 'resume':
      if (!str(o, 'token')) return bad('token must be a non-empty string');
      break;
    case 'credentials':
      if (!str(o, 'ref')) return bad('ref must be a non-empty string');
      break;
    default:
      return { ok: false, reason: `service request: unknown op ${JSON.stringify(o.op)}` };
  }
  return { ok: true, value: o as ServiceRpcRequest };
}

export interface ServiceRpcHandlers {
  state: (plugin: string) => PluginState;
  leases: NamedLeases;
  resume(token: string, data?: unknown): Promise<boolean>;
  credentials: CredentialsAccessor;
}

/** The daemon's side: answers service requests of workers (every daemon, one of them per request). */
export function serveServiceRpc(opts: { nc: NatsConnection; names: NatsNames; handlers: ServiceRpcHandlers; logger: NodeLogger }): { stop(): void } {
  const { handlers } = opts;
  const serve = async (r: ServiceRpcRequest): Promise<unknown> => {
    switch (r.op) {
      case 'credentials':
        return handlers.credentials.get(r.ref);
      case 'resume':
        return handlers.resume(r.token, r.data);
      case 'lease':
        if (r.action === 'acquire') return handlers.leases.acquire(r.name, r.holder, r.ttlMs);
        if (r.action === 'release') return handlers.leases.release(r.name, r.holder);
        return handlers.leases.holder(r.name);
      case 'log': {
        const log = handlers.state(r.plugin).log(r.stream);
        if (r.action === 'append') return log.append(r.entries, { ...(r.expectedLength !== undefined ? { expectedLength: r.expectedLength } : {}), ...(r.checkpoint ? { checkpoint: r.checkpoint } : {}) });
        if (r.action === 'read') return log.read({ ...(r.from !== undefined ? { from: r.from } : {}), ...(r.limit !== undefined ? { limit: r.limit } : {}) });
        return log.length();
      }
      case 'state': {
        const state = handlers.state(r.plugin);
        if (r.action === 'get') return state.get(r.key);
        if (r.action === 'set') return state.set(r.key, r.value);
        if (r.action === 'delete') return state.delete(r.key);
        if (r.action === 'list') return state.list(r.prefix, { ...(r.limit !== undefined ? { limit: r.limit } : {}), ...(r.after !== undefined ? { after: r.after } : {}) });
        const cas = r;
        await state.update(cas.key, (current) => {
          if (stateFingerprint(current) !== cas.expect) throw new TransientNodeError(`state key "${cas.key}" changed meanwhile`, 'STATE_CONFLICT');
          return cas.value;
        });
        return undefined;
      }
    }
  };
  const onMessage = async (msg: Msg): Promise<void> => {
    const reply = (r: RpcReply) => {
      if (msg.reply) msg.respond(encodeMessage(r));
    };
    const decoded = decodeServiceRpcRequest(msg.data);
    if (!decoded.ok) {
      opts.logger.warn('rejected a malformed service request', { reason: decoded.reason });
      return reply({ v: WIRE_VERSION, ok: false, error: { message: decoded.reason, code: 'BAD_REQUEST', retryable: false } });
    }
    try {
      const value = await serve(decoded.value);
      reply({ v: WIRE_VERSION, ok: true, ...(value !== undefined ? { value } : {}) });
    } catch (err) {
      reply({ v: WIRE_VERSION, ok: false, error: toErrorInfo(err) });
    }
  };
  const sub: Subscription = opts.nc.subscribe(opts.names.servicesRpc, { queue: 'daemons', callback: (err, msg) => (err ? opts.logger.warn('service RPC subscription error', { err: String(err) }) : void onMessage(msg)) });
  return { stop: () => sub.unsubscribe() };
}

/** The worker's side: the ports a ServiceHost needs, each call a request to the daemons. */
export function remoteServicePorts(opts: { nc: NatsConnection; names: NatsNames; timeoutMs?: number; maxUpdateAttempts?: number }): ServiceRpcHandlers {
  const timeout = opts.timeoutMs ?? 10_000;
  const call = async (body: DistributiveOmit<ServiceRpcRequest, 'v'>): Promise<unknown> => {
    let reply;
    try {
      reply = await opts.nc.request(opts.names.servicesRpc, encodeMessage({ v: WIRE_VERSION, ...body }), { timeout });
    } catch (err) {
      if (isNoResponders(err)) throw new TransientNodeError(`no daemon answers service requests over NATS (${body.op})`, 'DAEMON_UNREACHABLE', undefined, { cause: err });
      throw new TransientNodeError(`no daemon answered a ${body.op} request within ${timeout} ms`, 'RPC_TIMEOUT', undefined, { cause: err });
    }
    const decoded = decodeRpcReply(reply.data);
    if (!decoded.ok) throw new TransientNodeError(`malformed ${body.op} reply: ${decoded.reason}`, 'RPC_MALFORMED');
    if (!decoded.value.ok) throw errorFromInfo(decoded.value.error);
    return decoded.value.value;
  };
  const state = (plugin: string): PluginState => ({
    get: async <T>(key: string) => (await call({ op: 'state', plugin, action: 'get', key })) as T | undefined,
    set: async (key, value) => void (await call({ op: 'state', plugin, action: 'set', key, value })),
    delete: async (key) => void (await call({ op: 'state', plugin, action: 'delete', key })),
    list: async <T>(prefix: string, o: { limit?: number; after?: string } = {}) =>
      (await call({ op: 'state', plugin, action: 'list', prefix, ...(o.limit !== undefined ? { limit: o.limit } : {}), ...(o.after !== undefined ? { after: o.after } : {}) })) as Array<{ key: string; value: T }>,
    update: async <T>(key: string, fn: (current: T | undefined) => T | undefined) => {
      const max = opts.maxUpdateAttempts ?? 20;
      for (let attempt = 1; attempt <= max; attempt++) {
        const current = (await call({ op: 'state', plugin, action: 'get', key })) as T | undefined;
        const next = fn(current === undefined ? undefined : structuredClone(current));
        try {
          await call({ op: 'state', plugin, action: 'cas', key, expect: stateFingerprint(current), ...(next !== undefined ? { value: next } : {}) });
          return next;
        } catch (err) {
          if ((err as NodeError).code !== 'STATE_CONFLICT') throw err;
        }
      }
      throw new TransientNodeError(`state.update("${key}") lost ${max} races in a row`, 'STATE_CONTENDED');
    },
    log: <T>(stream: string): AppendOnlyLog<T> => ({
      append: async (entries, o = {}) =>
        (await call({ op: 'log', plugin, stream, action: 'append', entries: [...entries], ...(o.expectedLength !== undefined ? { expectedLength: o.expectedLength } : {}), ...(o.checkpoint ? { checkpoint: o.checkpoint } : {}) })) as number,
      read: async (o = {}) => (await call({ op: 'log', plugin, stream, action: 'read', ...(o.from !== undefined ? { from: o.from } : {}), ...(o.limit !== undefined ? { limit: o.limit } : {}) })) as Array<{ pos: number; value: T }>,
      length: async () => (await call({ op: 'log', plugin, stream, action: 'length' })) as number,
    }),
  });
  return {
    state,
    leases: {
      acquire: async (name, holder, ttlMs) => (await call({ op: 'lease', action: 'acquire', name, holder, ttlMs })) === true,
      release: async (name, holder) => void (await call({ op: 'lease', action: 'release', name, holder })),
      holder: async (name) => (await call({ op: 'lease', action: 'holder', name })) as string | undefined,
    },
    resume: async (token, data) => (await call({ op: 'resume', token, ...(data !== undefined ? { data } : {}) })) === true,
    credentials: { get: async <T extends object>(ref: string) => (await call({ op: 'credentials', ref })) as T },
  };
}

type DistributiveOmit<T, K extends keyof any> = T extends unknown ? Omit<T, K> : never;
