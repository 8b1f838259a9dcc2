import { type Decoded, encodeMessage } from './messages.js';
import { DEFAULT_PREFIX, WIRE_VERSION, natsNames } from './subjects.js';

/**
 * `<p>.v1.workflows.changed` (core NATS, every daemon subscribes): a daemon created, updated,
 * (de)activated or deleted a workflow, so the others reload its triggers (webhook routes, trigger
 * sources) from the shared database. Best effort: a daemon that misses one (disconnected) catches up
 * when it next starts, or with the next change of that workflow.
 */
export interface WorkflowChangedMessage {
  v: typeof WIRE_VERSION;
  workflowId: string;
  version: number;
  change: WorkflowChange;
  /** the daemon that made the change (it ignores its own message) */
  daemonId: string;
  at: number;
}

export const WORKFLOW_CHANGES = ['created', 'updated', 'activated', 'deactivated', 'deleted'] as const;
export type WorkflowChange = (typeof WORKFLOW_CHANGES)[number];

export function workflowChangedSubject(prefix: string = DEFAULT_PREFIX): string {
  return `${natsNames(prefix).prefix}.v${WIRE_VERSION}.workflows.changed`;
}

export function encodeWorkflowChanged(message: Omit<WorkflowChangedMessage, 'v'>): Uint8Array {
  return encodeMessage({ v: WIRE_VERSION, ...message } satisfies WorkflowChangedMessage);
}

const FIELDS = ['v', 'workflowId', 'version', 'change', 'daemonId', 'at'];

export function decodeWorkflowChanged(data: Uint8Array): Decoded<WorkflowChangedMessage> {
  let m: unknown;
  try {
    m = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data));
  } catch (err) {
    return { ok: false, reason: `not UTF-8 JSON: ${(err as Error).message}` };
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return { ok: false, reason: '$ must be an object' };
  const o = m as Record<string, unknown>;
  const problems: string[] = [];
  if (o.v !== WIRE_VERSION) problems.push(`$.v must be ${WIRE_VERSION}`);
  if (typeof o.workflowId !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(o.workflowId)) problems.push('$.workflowId must be an id (letters, digits, _ and -)');
  if (!Number.isSafeInteger(o.version) || (o.version as number) < 0) problems.push('$.version must be an integer >= 0');
  if (!WORKFLOW_CHANGES.includes(o.change as WorkflowChange)) problems.push(`$.change must be one of ${WORKFLOW_CHANGES.join(', ')}`);
  if (typeof o.daemonId !== 'string' || !/^[A-Za-z0-9_-]{1,256}$/.test(o.daemonId)) problems.push('$.daemonId must be letters, digits, _ and - only');
  if (typeof o.at !== 'number' || !Number.isFinite(o.at)) problems.push('$.at must be a number');
  for (const k of Object.keys(o)) if (!FIELDS.includes(k)) problems.push(`$.${k} is not part of the message`);
  return problems.length ? { ok: false, reason: problems.join('; ') } : { ok: true, value: o as unknown as WorkflowChangedMessage };
}
