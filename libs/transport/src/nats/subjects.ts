/**
 * NATS names of wire version 1 (ARCHITECTURE §7). Changing a subject or a message shape means a new
 * version (`v2` subjects, a new stream), never an in-place edit: daemons and workers of different
 * releases share one NATS.
 *
 * | name                                   | kind                          | from → to        |
 * |----------------------------------------|-------------------------------|------------------|
 * | `<p>.v1.jobs.<nodeType>`               | JetStream work queue `<P>_JOBS_V1`, durable pull consumer per node type | daemon → workers |
 * | `<p>.v1.results.<daemonId>`            | core (result also kept in KV `<p>_results_v1`) | worker → daemon |
 * | `<p>.v1.progress.<daemonId>`           | core                          | worker → daemon  |
 * | `<p>.v1.cancel.<nodeType>`             | core broadcast                | daemon → workers |
 * | `<p>.v1.registry.announce`             | core, every heartbeat         | workers → daemons|
 * | `<p>.v1.registry.query`                | core (workers answer by announcing at once) | daemon → workers |
 * | `<p>.v1.rpc.<daemonId>.state`          | request/reply                 | worker → daemon  |
 * | `<p>.v1.rpc.<daemonId>.credentials`    | request/reply                 | worker → daemon  |
 * | `<p>.v1.rpc.<daemonId>.evaluate`       | request/reply                 | worker → daemon  |
 * | `<p>.v1.events.execution.<executionId>`| core (editor-events.ts)       | daemon → daemons |
 * | `<p>.v1.events.workflow.<workflowId>`  | core (editor-events.ts)       | daemon → daemons |
 *
 * `<p>` is `anchorflow` unless a prefix is configured (tests, or several installations on one NATS).
 */
export const WIRE_VERSION = 1 as const;
export const DEFAULT_PREFIX = 'anchorflow';

export type RpcOperation = 'state' | 'credentials' | 'evaluate';

export interface NatsNames {
  readonly prefix: string;
  /** JetStream stream holding node jobs (work-queue retention) */
  readonly jobsStream: string;
  /** KV bucket keeping each job's result until the daemon has it (survives daemon and NATS restarts) */
  readonly resultsBucket: string;
  jobs(nodeType: string): string;
  readonly jobsAll: string;
  results(daemonId: string): string;
  progress(daemonId: string): string;
  cancel(nodeType: string): string;
  readonly announce: string;
  readonly query: string;
  rpc(daemonId: string, op: RpcOperation): string;
  rpcAll(daemonId: string): string;
  /** durable consumer name of a node type (`core.http` → `core_http`: node types have no `_`) */
  consumer(nodeType: string): string;
  /** KV key of a job's result */
  resultKey(jobId: string): string;
}

const PREFIX_RE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
const TOKEN_RE = /^[A-Za-z0-9_-]+$/;
const NODE_TYPE_RE = /^[a-z][a-z0-9-]*(\.[a-z][a-zA-Z0-9-]*)+$/;

/** A daemon or worker id must be a single subject token. */
export function assertSubjectToken(value: string, what: string): void {
  if (!TOKEN_RE.test(value)) throw new TypeError(`${what} "${value}" may only hold letters, digits, _ and -`);
}

function assertNodeType(nodeType: string): void {
  if (!NODE_TYPE_RE.test(nodeType)) throw new TypeError(`node type "${nodeType}" cannot be used in a subject`);
}

export function natsNames(prefix: string = DEFAULT_PREFIX): NatsNames {
  if (!PREFIX_RE.test(prefix)) throw new TypeError(`NATS prefix "${prefix}" must be dot-separated tokens of letters, digits, _ and -`);
  const base = `${prefix}.v${WIRE_VERSION}`;
  const flat = prefix.replace(/[^A-Za-z0-9_-]/g, '_');
  return {
    prefix,
    jobsStream: `${flat.toUpperCase()}_JOBS_V${WIRE_VERSION}`,
    resultsBucket: `${flat}_results_v${WIRE_VERSION}`,
    jobs: (nodeType) => (assertNodeType(nodeType), `${base}.jobs.${nodeType}`),
    jobsAll: `${base}.jobs.>`,
    results: (daemonId) => (assertSubjectToken(daemonId, 'daemon id'), `${base}.results.${daemonId}`),
    progress: (daemonId) => (assertSubjectToken(daemonId, 'daemon id'), `${base}.progress.${daemonId}`),
    cancel: (nodeType) => (assertNodeType(nodeType), `${base}.cancel.${nodeType}`),
    announce: `${base}.registry.announce`,
    query: `${base}.registry.query`,
    rpc: (daemonId, op) => (assertSubjectToken(daemonId, 'daemon id'), `${base}.rpc.${daemonId}.${op}`),
    rpcAll: (daemonId) => (assertSubjectToken(daemonId, 'daemon id'), `${base}.rpc.${daemonId}.*`),
    consumer: (nodeType) => (assertNodeType(nodeType), `jobs_${nodeType.replace(/\./g, '_')}`),
    resultKey: (jobId) => Buffer.from(jobId, 'utf8').toString('base64url'),
  };
}
