import { type Decoded, encodeMessage } from './messages.js';
import { DEFAULT_PREFIX, WIRE_VERSION, natsNames } from './subjects.js';

/**
 * Cluster mode of the editor's socket gateway: each daemon republishes the execution events of its own
 * engine, and the workflow patches it accepted, so sockets connected to any daemon see everything.
 *
 * | subject                                   | message                       | from → to          |
 * |-------------------------------------------|-------------------------------|--------------------|
 * | `<p>.v1.events.execution.<executionId>`   | ExecutionEventMessageV1       | daemon → daemons   |
 * | `<p>.v1.events.workflow.<workflowId>`     | WorkflowPatchedMessageV1      | daemon → daemons   |
 * | `<p>.v1.events.presence.<workflowId>`     | PresenceMessageV1             | daemon → daemons   |
 *
 * Core NATS (no persistence): a daemon that misses one (disconnected) shows a gap in `seq` to its
 * watchers, who re-watch to get the state again. Receivers ignore their own daemon's messages.
 */
export interface ExecutionEventMessageV1 {
  v: typeof WIRE_VERSION;
  daemonId: string;
  /** an engine ExecutionEvent as JSON (`type`, `executionId`, `seq`, `at`, and the fields of its type) */
  event: { type: string; executionId: string; seq: number; at: number; [field: string]: unknown };
}

export interface WorkflowPatchedMessageV1 {
  v: typeof WIRE_VERSION;
  daemonId: string;
  workflowId: string;
  version: number;
  /** who patched: `key:<api key id>` */
  by: string;
  /** the ops as applied (after rebase) */
  ops: unknown[];
  /** validation problems of the new version (a draft may be invalid) */
  problems: unknown[];
}

/**
 * Who has a workflow open on one daemon (its sockets), sent on every change and every 10 s while anyone
 * has it open; a daemon's entry is dropped 30 s after its last message (it died), or at once when empty.
 */
export interface PresenceMessageV1 {
  v: typeof WIRE_VERSION;
  daemonId: string;
  workflowId: string;
  users: Array<{ socketId: string; who: string; name: string; selectedNodeId: string | null }>;
}

const ID_RE = /^[A-Za-z0-9_-]{1,128}$/;
const DAEMON_RE = /^[A-Za-z0-9_-]{1,256}$/;

export function executionEventsSubject(executionId: string, prefix: string = DEFAULT_PREFIX): string {
  if (!ID_RE.test(executionId)) throw new TypeError(`execution id "${executionId}" cannot be used in a subject`);
  return `${natsNames(prefix).prefix}.v${WIRE_VERSION}.events.execution.${executionId}`;
}
export function executionEventsWildcard(prefix: string = DEFAULT_PREFIX): string {
  return `${natsNames(prefix).prefix}.v${WIRE_VERSION}.events.execution.*`;
}
export function workflowPatchedSubject(workflowId: string, prefix: string = DEFAULT_PREFIX): string {
  if (!ID_RE.test(workflowId)) throw new TypeError(`workflow id "${workflowId}" cannot be used in a subject`);
  return `${natsNames(prefix).prefix}.v${WIRE_VERSION}.events.workflow.${workflowId}`;
}
export function workflowPatchedWildcard(prefix: string = DEFAULT_PREFIX): string {
  return `${natsNames(prefix).prefix}.v${WIRE_VERSION}.events.workflow.*`;
}

export function presenceSubject(workflowId: string, prefix: string = DEFAULT_PREFIX): string {
  if (!ID_RE.test(workflowId)) throw new TypeError(`workflow id "${workflowId}" cannot be used in a subject`);
  return `${natsNames(prefix).prefix}.v${WIRE_VERSION}.events.presence.${workflowId}`;
}
export function presenceWildcard(prefix: string = DEFAULT_PREFIX): string {
  return `${natsNames(prefix).prefix}.v${WIRE_VERSION}.events.presence.*`;
}
export function encodePresence(message: Omit<PresenceMessageV1, 'v'>): Uint8Array {
  return encodeMessage({ v: WIRE_VERSION, ...message } satisfies PresenceMessageV1);
}

export function encodeExecutionEvent(message: Omit<ExecutionEventMessageV1, 'v'>): Uint8Array {
  return encodeMessage({ v: WIRE_VERSION, ...message } satisfies ExecutionEventMessageV1);
}
export function encodeWorkflowPatched(message: Omit<WorkflowPatchedMessageV1, 'v'>): Uint8Array {
  return encodeMessage({ v: WIRE_VERSION, ...message } satisfies WorkflowPatchedMessageV1);
}

function parse(data: Uint8Array): Decoded<Record<string, unknown>> {
  let m: unknown;
  try {
    m = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data));
  } catch (err) {
    return { ok: false, reason: `not UTF-8 JSON: ${(err as Error).message}` };
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return { ok: false, reason: '$ must be an object' };
  return { ok: true, value: m as Record<string, unknown> };
}

function unknownFields(o: Record<string, unknown>, fields: string[], problems: string[]): void {
  for (const k of Object.keys(o)) if (!fields.includes(k)) problems.push(`$.${k} is not part of the message`);
}

export function decodeExecutionEvent(data: Uint8Array): Decoded<ExecutionEventMessageV1> {
  const parsed = parse(data);
  if (!parsed.ok) return parsed;
  const o = parsed.value;
  const problems: string[] = [];
  if (o.v !== WIRE_VERSION) problems.push(`$.v must be ${WIRE_VERSION}`);
  if (typeof o.daemonId !== 'string' || !DAEMON_RE.test(o.daemonId)) problems.push('$.daemonId must be letters, digits, _ and - only');
  const e = o.event as Record<string, unknown> | undefined;
  if (typeof e !== 'object' || e === null || Array.isArray(e)) problems.push('$.event must be an object');
  else {
    if (typeof e.type !== 'string' || !/^(execution|node)\.[a-z-]+$/.test(e.type)) problems.push('$.event.type must be an execution event type');
    if (typeof e.executionId !== 'string' || !ID_RE.test(e.executionId)) problems.push('$.event.executionId must be an id');
    if (!Number.isSafeInteger(e.seq) || (e.seq as number) < 1) problems.push('$.event.seq must be an integer >= 1');
    if (typeof e.at !== 'number' || !Number.isFinite(e.at)) problems.push('$.event.at must be a number');
  }
  unknownFields(o, ['v', 'daemonId', 'event'], problems);
  return problems.length ? { ok: false, reason: problems.join('; ') } : { ok: true, value: o as unknown as ExecutionEventMessageV1 };
}

export function decodeWorkflowPatched(data: Uint8Array): Decoded<WorkflowPatchedMessageV1> {
  const parsed = parse(data);
  if (!parsed.ok) return parsed;
  const o = parsed.value;
  const problems: string[] = [];
  if (o.v !== WIRE_VERSION) problems.push(`$.v must be ${WIRE_VERSION}`);
  if (typeof o.daemonId !== 'string' || !DAEMON_RE.test(o.daemonId)) problems.push('$.daemonId must be letters, digits, _ and - only');
  if (typeof o.workflowId !== 'string' || !ID_RE.test(o.workflowId)) problems.push('$.workflowId must be an id');
  if (!Number.isSafeInteger(o.version) || (o.version as number) < 1) problems.push('$.version must be an integer >= 1');
  if (typeof o.by !== 'string' || o.by.length > 300) problems.push('$.by must be a string');
  if (!Array.isArray(o.ops)) problems.push('$.ops must be an array');
  if (!Array.isArray(o.problems)) problems.push('$.problems must be an array');
  unknownFields(o, ['v', 'daemonId', 'workflowId', 'version', 'by', 'ops', 'problems'], problems);
  return problems.length ? { ok: false, reason: problems.join('; ') } : { ok: true, value: o as unknown as WorkflowPatchedMessageV1 };
}

export function decodePresence(data: Uint8Array): Decoded<PresenceMessageV1> {
  const parsed = parse(data);
  if (!parsed.ok) return parsed;
  const o = parsed.value;
  const problems: string[] = [];
  if (o.v !== WIRE_VERSION) problems.push(`$.v must be ${WIRE_VERSION}`);
  if (typeof o.daemonId !== 'string' || !DAEMON_RE.test(o.daemonId)) problems.push('$.daemonId must be letters, digits, _ and - only');
  if (typeof o.workflowId !== 'string' || !ID_RE.test(o.workflowId)) problems.push('$.workflowId must be an id');
  if (!Array.isArray(o.users) || o.users.length > 1000) problems.push('$.users must be an array of at most 1000 users');
  else {
    o.users.forEach((u: unknown, i) => {
      const x = u as Record<string, unknown> | null;
      const ok = typeof x === 'object' && x !== null && typeof x.socketId === 'string' && typeof x.who === 'string' && typeof x.name === 'string'
        && (x.selectedNodeId === null || typeof x.selectedNodeId === 'string') && Object.keys(x).every((k) => ['socketId', 'who', 'name', 'selectedNodeId'].includes(k));
      if (!ok) problems.push(`$.users[${i}] must be {socketId, who, name, selectedNodeId}`);
    });
  }
  unknownFields(o, ['v', 'daemonId', 'workflowId', 'users'], problems);
  return problems.length ? { ok: false, reason: problems.join('; ') } : { ok: true, value: o as unknown as PresenceMessageV1 };
}
