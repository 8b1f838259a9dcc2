import type { ExecutionEvent } from '@anchorflow/engine';
import type { ErrorInfo } from '@anchorflow/plugin-sdk';
import type { AuditFields, JsonValue, Redactor } from '@anchorflow/security';
import { toStorableJson, toStorableString } from './storable-json.js';

/**
 * What the audit writer buffers: the engine events of one turn of the event loop, by execution (mapped at
 * flush time into ONE entry: `executionsEventsFields`), a single engine event, or ready-made fields.
 */
export type AuditItem = ReadonlyArray<readonly ExecutionEvent[]> | ExecutionEvent | AuditFields;

/** most executions one `execution.events` entry lists (a turn with more makes several entries) */
export const MAX_EXECUTIONS_PER_ENTRY = 100;

/** actor of entries the engine causes (execution events) and of the daemon's own actions */
export const SYSTEM_ACTOR = 'system';
/** actor of API calls made without an authenticated principal */
export const ANONYMOUS_ACTOR = 'anonymous';

const isFields = (item: AuditItem): item is AuditFields => !Array.isArray(item) && typeof (item as AuditFields).action === 'string';
// (Array.isArray does not narrow a readonly array out of a union)
const isByExecution = (item: AuditItem): item is ReadonlyArray<readonly ExecutionEvent[]> => Array.isArray(item);

type Text = (s: string) => string;
const iso = (ms: number): string | null => (Number.isFinite(ms) ? new Date(ms).toISOString() : null);
const num = (n: number): number | null => (Number.isFinite(n) ? n : null);
/** when an event happened (now, for an event without a valid time) */
const atOf = (event: ExecutionEvent): Date => (Number.isFinite(event.at) ? new Date(event.at) : new Date());

/** Sets `key` unless the value is undefined (canonical JSON and jsonb would drop it anyway). */
function put(details: Record<string, JsonValue>, key: string, value: JsonValue | undefined): void {
  if (value !== undefined) details[key] = value;
}

function errorSummary(error: ErrorInfo | undefined, text: Text): JsonValue | undefined {
  if (!error) return undefined;
  const out: Record<string, JsonValue> = { code: text(String(error.code)), message: text(String(error.message)), retryable: error.retryable === true };
  if (typeof error.nodeId === 'string') out.nodeId = text(error.nodeId);
  return out;
}

function isDecision(data: unknown): data is { decision: string; by: string } {
  if (typeof data !== 'object' || data === null) return false;
  const d = data as { decision?: unknown; by?: unknown };
  return (d.decision === 'approve' || d.decision === 'reject') && typeof d.by === 'string';
}

const actionFor = (type: string): string => (type.startsWith('execution.') ? type : `execution.${type}`);
/** the audit action of each engine event type, made once (a string made per event is hashed anew by every map lookup of it) */
const ACTIONS = new Map<string, string>(
  ['execution.started', 'node.started', 'node.succeeded', 'node.failed', 'node.waiting', 'node.resumed', 'node.skipped', 'node.cancelled', 'execution.cancel-requested', 'execution.finished']
    .map((type) => [type, actionFor(type)]),
);

/**
 * The audit action of an engine event: `execution.started`, `execution.node.succeeded`, `execution.finished`…
 * Details carry what happened, not the data: node inputs and outputs stay in the execution history
 * (which retention may prune), and resume tokens, which are capabilities, are left out.
 *
 * This runs for every engine event (thousands per second on the hot path), so the details are built
 * ready to store: every string goes through `text` (the redactor plus jsonb/canonical-JSON safety),
 * numbers are checked finite, nothing needs a generic deep walk afterwards.
 */
export function executionEventFields(event: ExecutionEvent, text: Text = (s) => toStorableString(s)): AuditFields {
  const action = ACTIONS.get(event.type) ?? actionFor(event.type);
  const details: Record<string, JsonValue> = { seq: num(event.seq) };
  switch (event.type) {
    case 'execution.started':
      details.workflowId = text(event.workflowId);
      details.workflowVersion = num(event.workflowVersion);
      put(details, 'triggerNodeId', event.triggerNodeId === undefined ? undefined : text(event.triggerNodeId));
      put(details, 'dedupeKey', event.dedupeKey === undefined ? undefined : text(event.dedupeKey));
      put(details, 'parentExecutionId', event.parent === undefined ? undefined : text(event.parent.executionId));
      break;
    case 'node.started':
      details.nodeId = text(event.nodeId);
      details.attempt = num(event.attempt);
      break;
    case 'node.succeeded':
      details.nodeId = text(event.nodeId);
      details.attempt = num(event.attempt);
      details.durationMs = num(event.at - event.startedAt);
      details.ports = Object.keys(event.output ?? {}).map(text);
      break;
    case 'node.failed':
      details.nodeId = text(event.nodeId);
      details.attempt = num(event.attempt);
      details.durationMs = num(event.at - event.startedAt);
      put(details, 'error', errorSummary(event.error, text));
      put(details, 'retryAt', event.retryAt === undefined ? undefined : iso(event.retryAt));
      put(details, 'continued', event.continued === undefined ? undefined : event.continued === true);
      break;
    case 'node.waiting':
      details.nodeId = text(event.nodeId);
      details.attempt = num(event.attempt);
      put(details, 'until', event.until === undefined ? undefined : iso(event.until));
      break;
    case 'node.resumed':
      details.nodeId = text(event.nodeId);
      details.reason = text(String(event.reason));
      // an approval's decision (core.approval): what was decided and by whom; the comment stays in the history
      if (isDecision(event.data)) {
        details.decision = text(event.data.decision);
        details.by = text(event.data.by);
      }
      break;
    case 'node.skipped':
    case 'node.cancelled':
      details.nodeId = text(event.nodeId);
      break;
    case 'execution.cancel-requested':
      details.reason = text(String(event.reason));
      break;
    case 'execution.finished':
      details.status = text(String(event.status));
      put(details, 'error', errorSummary(event.error, text));
      break;
    default:
  }
  return { actor: SYSTEM_ACTOR, action: text(action), target: `execution:${text(event.executionId)}`, at: atOf(event), details };
}

/**
 * One entry for several events of one execution (`execution.events`): each event is in the chain (its
 * action and details in order, `details.events`), while the per-entry cost (two canonicalisations and a
 * SHA-256) is paid once per execution and turn instead of once per event — on the webhook benchmark
 * that was more CPU than the workflow itself.
 */
export function executionEventsFields(events: readonly ExecutionEvent[], text: Text = (s) => toStorableString(s)): AuditFields {
  if (events.length === 1) return executionEventFields(events[0]!, text);
  const first = events[0]!;
  return { actor: SYSTEM_ACTOR, action: 'execution.events', target: `execution:${text(first.executionId)}`, at: atOf(first), details: { events: listed(events, text) } };
}

/** the events as an `execution.events` entry lists them: each one's action and details, in order */
function listed(events: readonly ExecutionEvent[], text: Text): JsonValue[] {
  return events.map((e) => {
    const f = executionEventFields(e, text);
    return { action: f.action, ...(f.details as Record<string, JsonValue>) };
  });
}

/**
 * One entry for the events several executions emitted in one turn of the event loop (issue 18): each
 * event still has its place in the chain, listed under its execution (`details.executions[i].events`,
 * the executions in the order they first emitted in the turn), while a row, its index entries and its
 * hash are paid once per turn instead of once per execution. Under load a turn carries the events of
 * several executions (about five on the webhook benchmark at c=10): PostgreSQL then spends about a quarter
 * less on them, and the table takes a quarter of the space, since larger details compress
 * (bench/audit-entries.mjs). A turn with one execution keeps the one-execution shapes above. Read them
 * back with `auditedExecutionEvents`.
 */
export function executionsEventsFields(byExecution: ReadonlyArray<readonly ExecutionEvent[]>, text: Text = (s) => toStorableString(s)): AuditFields {
  if (byExecution.length === 1) return executionEventsFields(byExecution[0]!, text);
  const executions: JsonValue[] = byExecution.map((events) => ({ executionId: text(events[0]!.executionId), events: listed(events, text) }));
  return { actor: SYSTEM_ACTOR, action: 'execution.events', target: 'executions', at: atOf(byExecution[0]![0]!), details: { executions } };
}

/** One audited engine event as an entry lists it: its action and details. */
export type AuditedEvent = { action: string } & Record<string, JsonValue>;

/**
 * The engine events of one execution that these entries record, in order, whichever shape holds them: an
 * entry per event (`execution.<type>`, target `execution:<id>`), an entry per execution and turn
 * (`execution.events`, same target) or an entry per turn (`execution.events`, target `executions`).
 */
export function auditedExecutionEvents(entries: Iterable<{ actor: string; action: string; target: string; details: unknown }>, executionId: string): AuditedEvent[] {
  const out: AuditedEvent[] = [];
  const target = `execution:${executionId}`;
  for (const e of entries) {
    if (e.actor !== SYSTEM_ACTOR) continue;
    const details = (e.details ?? {}) as { events?: AuditedEvent[]; executions?: Array<{ executionId: string; events: AuditedEvent[] }> };
    if (e.target === target) {
      if (e.action === 'execution.events' && Array.isArray(details.events)) out.push(...details.events);
      else out.push({ action: e.action, ...(details as Record<string, JsonValue>) });
    } else if (e.target === 'executions' && Array.isArray(details.executions)) {
      for (const x of details.executions) if (x?.executionId === executionId && Array.isArray(x.events)) out.push(...x.events);
    }
  }
  return out;
}

/** Turns a buffered item into the fields that get hashed: redacted, then made storable (jsonb, canonical JSON). */
export function toAuditFields(item: AuditItem, redactor: Pick<Redactor, 'redact' | 'redactString'>): AuditFields {
  if (isByExecution(item)) return executionsEventsFields(item, (s) => toStorableString(redactor.redactString(s)));
  if (!isFields(item)) return executionEventFields(item, (s) => toStorableString(redactor.redactString(s)));
  const at = item.at instanceof Date && !Number.isNaN(item.at.getTime()) ? item.at : new Date();
  return {
    actor: nonEmpty(item.actor, SYSTEM_ACTOR),
    action: nonEmpty(item.action, 'unknown'),
    target: nonEmpty(item.target, 'unknown'),
    at,
    details: toStorableJson(redactor.redact(item.details ?? null)),
  };
}

function nonEmpty(value: unknown, fallback: string): string {
  return typeof value === 'string' && value.length > 0 ? toStorableString(value) : fallback;
}
