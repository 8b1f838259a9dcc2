import type { ErrorInfo, NodeOutputs } from '@anchorflow/plugin-sdk';
import { type NodeJob, type RemoteNodeTypeDescriptor, checkRemoteDescriptor } from '@anchorflow/engine';
import { WIRE_VERSION } from './subjects.js';

/**
 * Wire messages, version 1. Every message is a JSON object with `v: 1`. A receiver validates what it
 * gets (`decode…`) and rejects anything else with a reason; it never trusts the sender's shape.
 */

/**
 * A node attempt on `<p>.v1.jobs.<nodeType>` (published with msgID = jobId: re-publishing is a no-op):
 * the engine's NodeJob (one declaration of the fields) with the wire envelope around it.
 */
export interface JobMessage extends Omit<NodeJob, 'input' | 'sources'> {
  v: typeof WIRE_VERSION;
  /** `<idempotencyKey>:<attempt>:<resume fingerprint>`: one per dispatch of an attempt */
  jobId: string;
  /** where results, progress and RPC go */
  daemonId: string;
  /** absent when the node's input is undefined */
  input?: unknown;
  sources?: string[];
  publishedAt: number;
  /**
   * the job's secret (HMAC of the jobId under the daemon's job key): only a worker that pulled the job
   * knows it, and the daemon answers RPCs and accepts the result only with it (docs/security.md)
   */
  secret: string;
}

export type JobOutcomeWire =
  | { kind: 'output'; outputs: NodeOutputs }
  | { kind: 'suspend'; until?: number; token?: string }
  | { kind: 'error'; error: ErrorInfo };

/** The end of a job, on `<p>.v1.results.<daemonId>` and in the results KV bucket. */
export interface ResultMessage {
  v: typeof WIRE_VERSION;
  jobId: string;
  /** the job's secret, from the job message */
  secret: string;
  workerId: string;
  outcome: JobOutcomeWire;
  /** JetStream delivery number that produced it (1 unless a worker died before) */
  delivery: number;
  durationMs: number;
  finishedAt: number;
}

export interface ProgressMessage {
  v: typeof WIRE_VERSION;
  jobId: string;
  secret: string;
  data: unknown;
}

export interface CancelMessage {
  v: typeof WIRE_VERSION;
  jobId: string;
  reason: string;
}

export interface AnnouncedNodeType extends RemoteNodeTypeDescriptor {
  /** package name of the plugin providing it */
  plugin: string;
}

export interface AnnounceMessage {
  v: typeof WIRE_VERSION;
  workerId: string;
  plugins: Array<{ name: string; version: string }>;
  nodeTypes: AnnouncedNodeType[];
  /** the next announcement comes within this; the worker is considered gone after three missed */
  heartbeatMs: number;
  /** the worker is shutting down: forget it now */
  leaving?: boolean;
  at: number;
}

export interface QueryMessage {
  v: typeof WIRE_VERSION;
  daemonId: string;
}

export type StateRequest =
  | { v: typeof WIRE_VERSION; jobId: string; secret: string; op: 'get'; key: string }
  | { v: typeof WIRE_VERSION; jobId: string; secret: string; op: 'set'; key: string; value: unknown }
  | { v: typeof WIRE_VERSION; jobId: string; secret: string; op: 'delete'; key: string }
  | { v: typeof WIRE_VERSION; jobId: string; secret: string; op: 'list'; prefix: string; limit?: number; after?: string }
  /**
   * compare-and-set, so `state.update(key, fn)` stays atomic although fn runs in the worker: applied
   * only when the stored value's fingerprint still equals `expect`; `value` absent deletes the key
   */
  | { v: typeof WIRE_VERSION; jobId: string; secret: string; op: 'cas'; key: string; expect: string; value?: unknown };

export interface CredentialsRequest {
  v: typeof WIRE_VERSION;
  jobId: string;
  secret: string;
  ref: string;
}

export interface EvaluateRequest {
  v: typeof WIRE_VERSION;
  jobId: string;
  secret: string;
  expression: string;
  /** absent when evaluating against undefined */
  input?: unknown;
}

/** `scope`: a credentials reply's host scope (issue 17), which JSON cannot carry on the data itself */
export type RpcReply = { v: typeof WIRE_VERSION; ok: true; value?: unknown; scope?: { credential: string; entries: string[] } } | { v: typeof WIRE_VERSION; ok: false; error: ErrorInfo };

// ------------------------------------------------------------------ encoding

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** JSON bytes of a message. Throws a TypeError when the value cannot be JSON (BigInt, cycles). */
export function encodeMessage(message: object): Uint8Array {
  return encoder.encode(JSON.stringify(message));
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Why a message was rejected, for logs (never thrown across the process). */
export class WireFormatError extends Error {
  readonly code = 'WIRE_FORMAT';
  constructor(message: string) {
    super(message);
    this.name = 'WireFormatError';
  }
}

// ------------------------------------------------------------------ validation

type Check = (value: unknown, path: string, problems: string[]) => void;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const str = (opts: { min?: number; max?: number; pattern?: RegExp; what?: string } = {}): Check => (v, path, problems) => {
  if (typeof v !== 'string') problems.push(`${path} must be a string`);
  else if (v.length < (opts.min ?? 1)) problems.push(`${path} must not be empty`);
  else if (v.length > (opts.max ?? 4096)) problems.push(`${path} is longer than ${opts.max ?? 4096} characters`);
  else if (opts.pattern && !opts.pattern.test(v)) problems.push(`${path} must be ${opts.what ?? `like ${opts.pattern}`}`);
};
/** a job secret: 43 base64url characters (32 bytes) */
const secretCheck = str({ min: 43, max: 43, pattern: /^[A-Za-z0-9_-]+$/, what: 'a job secret (43 base64url characters)' });
/** ids used as subject tokens */
const token = str({ max: 256, pattern: /^[A-Za-z0-9_-]+$/, what: 'letters, digits, _ and - only' });
const nodeTypeName = str({ max: 256, pattern: /^[a-z][a-z0-9-]*(\.[a-z][a-zA-Z0-9-]*)+$/, what: 'a node type name like "<plugin>.<name>"' });
const int = (min = 0): Check => (v, path, problems) => {
  if (!Number.isSafeInteger(v) || (v as number) < min) problems.push(`${path} must be an integer >= ${min}`);
};
const num: Check = (v, path, problems) => {
  if (typeof v !== 'number' || !Number.isFinite(v)) problems.push(`${path} must be a number`);
};
const bool: Check = (v, path, problems) => {
  if (typeof v !== 'boolean') problems.push(`${path} must be a boolean`);
};
const any: Check = () => undefined;
const obj: Check = (v, path, problems) => {
  if (!isObject(v)) problems.push(`${path} must be an object`);
};
const arrayOf = (item: Check, max = 10_000): Check => (v, path, problems) => {
  if (!Array.isArray(v)) return void problems.push(`${path} must be an array`);
  if (v.length > max) return void problems.push(`${path} has more than ${max} items`);
  v.forEach((x, i) => item(x, `${path}[${i}]`, problems));
};
const oneOf = (...values: unknown[]): Check => (v, path, problems) => {
  if (!values.includes(v)) problems.push(`${path} must be one of ${values.map((x) => JSON.stringify(x)).join(', ')}`);
};
function shape(fields: Record<string, Check>, optional: Record<string, Check> = {}, open = false): Check {
  return (v, path, problems) => {
    if (!isObject(v)) return void problems.push(`${path} must be an object`);
    for (const [k, check] of Object.entries(fields)) {
      if (!(k in v) || v[k] === undefined) problems.push(`${path}.${k} is missing`);
      else check(v[k], `${path}.${k}`, problems);
    }
    for (const [k, check] of Object.entries(optional)) if (v[k] !== undefined) check(v[k], `${path}.${k}`, problems);
    if (!open) for (const k of Object.keys(v)) if (!(k in fields) && !(k in optional)) problems.push(`${path}.${k} is not part of the message`);
  };
}
const version: Check = (v, path, problems) => {
  if (v !== WIRE_VERSION) problems.push(`${path} must be ${WIRE_VERSION} (this build speaks wire version ${WIRE_VERSION}, got ${JSON.stringify(v)})`);
};

const errorInfo = shape(
  { message: str({ min: 0, max: 100_000 }), code: str({ max: 200 }), retryable: bool },
  { details: any, nodeId: str(), retryAfterMs: int() },
);
const resumeInfo = shape({ reason: oneOf('timer', 'signal'), suspendedAt: num }, { data: any });

const jobCheck = shape(
  {
    v: version,
    jobId: str({ max: 1024 }),
    daemonId: token,
    executionId: str({ max: 256 }),
    workflowId: str({ max: 256 }),
    nodeId: str({ max: 256 }),
    nodeType: nodeTypeName,
    attempt: int(1),
    idempotencyKey: str({ max: 1024 }),
    params: obj,
    publishedAt: num,
    secret: secretCheck,
  },
  { input: any, resume: resumeInfo, sources: arrayOf(str({ max: 256 })), deadline: num },
);

const outcomeCheck: Check = (v, path, problems) => {
  if (!isObject(v)) return void problems.push(`${path} must be an object`);
  if (v.kind === 'output') shape({ kind: any, outputs: obj })(v, path, problems);
  else if (v.kind === 'suspend') shape({ kind: any }, { until: num, token: str({ max: 1024 }) })(v, path, problems);
  else if (v.kind === 'error') shape({ kind: any, error: errorInfo })(v, path, problems);
  else problems.push(`${path}.kind must be "output", "suspend" or "error"`);
};
const resultCheck = shape({ v: version, jobId: str({ max: 1024 }), secret: secretCheck, workerId: token, outcome: outcomeCheck, delivery: int(1), durationMs: num, finishedAt: num });
const progressCheck = shape({ v: version, jobId: str({ max: 1024 }), secret: secretCheck }, { data: any });
const cancelCheck = shape({ v: version, jobId: str({ max: 1024 }), reason: str({ min: 0, max: 10_000 }) });
const queryCheck = shape({ v: version, daemonId: str({ max: 256 }) });

const nodeTypeCheck: Check = (v, path, problems) => {
  if (!isObject(v)) return void problems.push(`${path} must be an object`);
  const { plugin, ...descriptor } = v;
  str({ max: 256 })(plugin, `${path}.plugin`, problems);
  for (const p of checkRemoteDescriptor(descriptor)) problems.push(`${path}: ${p}`);
};
const announceCheck = shape(
  {
    v: version,
    workerId: token,
    plugins: arrayOf(shape({ name: str({ max: 256 }), version: str({ max: 256 }) }), 1000),
    nodeTypes: arrayOf(any, 10_000),
    heartbeatMs: int(1),
    at: num,
  },
  { leaving: bool },
);

const stateCheck: Check = (v, path, problems) => {
  if (!isObject(v)) return void problems.push(`${path} must be an object`);
  const base = { v: version, jobId: str({ max: 1024 }), secret: secretCheck, op: any };
  const key = str({ max: 1024 });
  switch (v.op) {
    case 'get':
    case 'delete':
      return shape({ ...base, key })(v, path, problems);
    case 'set':
      return shape({ ...base, key, value: any })(v, path, problems);
    case 'list':
      return shape({ ...base, prefix: str({ min: 0, max: 1024 }) }, { limit: int(1), after: str({ min: 0, max: 1024 }) })(v, path, problems);
    case 'cas':
      return shape({ ...base, key, expect: str({ max: 128 }) }, { value: any })(v, path, problems);
    default:
      problems.push(`${path}.op must be get, set, delete, list or cas`);
  }
};
const credentialsCheck = shape({ v: version, jobId: str({ max: 1024 }), secret: secretCheck, ref: str({ max: 1024 }) });
const evaluateCheck = shape({ v: version, jobId: str({ max: 1024 }), secret: secretCheck, expression: str({ max: 100_000 }) }, { input: any });
const replyCheck: Check = (v, path, problems) => {
  if (!isObject(v)) return void problems.push(`${path} must be an object`);
  if (v.ok === true) shape({ v: version, ok: any }, { value: any, scope: shape({ credential: str({ max: 1024 }), entries: arrayOf(str({ max: 1024 }), 1000) }) })(v, path, problems);
  else if (v.ok === false) shape({ v: version, ok: any, error: errorInfo })(v, path, problems);
  else problems.push(`${path}.ok must be a boolean`);
};

function decoder_<T>(check: Check, what: string, extra?: (value: T) => string[]) {
  return (data: Uint8Array): Decoded<T> => {
    let value: unknown;
    try {
      value = JSON.parse(decoder.decode(data));
    } catch (err) {
      return { ok: false, reason: `${what} is not JSON: ${(err as Error).message}` };
    }
    const problems: string[] = [];
    check(value, '$', problems);
    if (!problems.length && extra) problems.push(...extra(value as T));
    if (problems.length) return { ok: false, reason: `invalid ${what}: ${problems.slice(0, 10).join('; ')}${problems.length > 10 ? ` (+${problems.length - 10} more)` : ''}` };
    return { ok: true, value: value as T };
  };
}

export const decodeJob = decoder_<JobMessage>(jobCheck, 'job message');
export const decodeResult = decoder_<ResultMessage>(resultCheck, 'result message');
export const decodeProgress = decoder_<ProgressMessage>(progressCheck, 'progress message');
export const decodeCancel = decoder_<CancelMessage>(cancelCheck, 'cancel message');
export const decodeQuery = decoder_<QueryMessage>(queryCheck, 'registry query');
export const decodeStateRequest = decoder_<StateRequest>(stateCheck, 'state request');
export const decodeCredentialsRequest = decoder_<CredentialsRequest>(credentialsCheck, 'credentials request');
export const decodeEvaluateRequest = decoder_<EvaluateRequest>(evaluateCheck, 'evaluate request');
export const decodeRpcReply = decoder_<RpcReply>(replyCheck, 'RPC reply');

/**
 * An announcement is accepted as a whole when its envelope is valid; each node type in it is checked
 * on its own (`rejected` lists the ones left out and why) so one bad type does not hide the others.
 */
export function decodeAnnounce(data: Uint8Array): Decoded<AnnounceMessage> & { rejected?: Array<{ type: unknown; reason: string }> } {
  const r = decoder_<AnnounceMessage>(announceCheck, 'announce message')(data);
  if (!r.ok) return r;
  const rejected: Array<{ type: unknown; reason: string }> = [];
  const nodeTypes = r.value.nodeTypes.filter((t, i) => {
    const problems: string[] = [];
    nodeTypeCheck(t, `$.nodeTypes[${i}]`, problems);
    if (problems.length) rejected.push({ type: (t as { type?: unknown } | null)?.type, reason: problems.join('; ') });
    return !problems.length;
  });
  return { ok: true, value: { ...r.value, nodeTypes }, ...(rejected.length ? { rejected } : {}) };
}
