import type { ExecutionEvent, ExecutionStatus, ExecutionSummary, ExecutionView, NodeRunView } from '@anchorflow/engine';
import type { SqlQueryable } from '../database/sql-pool.js';

// Shared read-side SQL and row mapping for the execution store and the execution reader.

/** the terminal statuses as an SQL list, spelled exactly as in the partial indexes' predicates */
export { TERMINAL_STATUS_SQL as TERMINAL_STATUSES_SQL } from '../entities/execution.entity.js';

/** epoch milliseconds of a timestamptz column, as a JS number */
export const ms = (column: string) => `(extract(epoch from ${column}) * 1000)::float8`;

export const SUMMARY_COLUMNS = `id, workflow_id, workflow_version, status, error, trigger_node_id, dedupe_key,
  ${ms('started_at')} AS started_at, ${ms('finished_at')} AS finished_at, seq, ${ms('wake_at')} AS wake_at,
  (SELECT array_agg(r->>'nodeId') FROM jsonb_array_elements(node_runs) r WHERE r->>'status' = 'failed') AS failed_nodes`;

export const VIEW_COLUMNS = `${SUMMARY_COLUMNS}, input, output, node_runs`;

export interface ExecutionRow {
  id: string;
  workflow_id: string;
  workflow_version: number;
  status: ExecutionStatus;
  input?: unknown;
  output?: Record<string, unknown> | null;
  error: ExecutionView['error'] | null;
  trigger_node_id: string | null;
  dedupe_key: string | null;
  started_at: number;
  finished_at: number | null;
  seq: number;
  failed_nodes?: string[] | null;
  wake_at: number | null;
  node_runs?: NodeRunView[];
}

export function toSummary(row: ExecutionRow): ExecutionSummary {
  const summary: ExecutionSummary = {
    id: row.id,
    workflowId: row.workflow_id,
    workflowVersion: row.workflow_version,
    status: row.status,
    startedAt: Math.round(row.started_at),
    seq: row.seq,
  };
  if (row.error != null) summary.error = row.error;
  if (row.trigger_node_id != null) summary.triggerNodeId = row.trigger_node_id;
  if (row.dedupe_key != null) summary.dedupeKey = row.dedupe_key;
  if (row.finished_at != null) summary.finishedAt = Math.round(row.finished_at);
  if (row.wake_at != null) summary.wakeAt = Math.round(row.wake_at);
  if (row.failed_nodes?.length) summary.failedNodes = row.failed_nodes;
  return summary;
}

export function toView(row: ExecutionRow): ExecutionView {
  // SQL NULL is an absent input; a JSON null input is kept as null
  const view: ExecutionView = { ...toSummary(row), input: row.input === null ? undefined : row.input, nodeRuns: row.node_runs ?? [] };
  if (row.output != null) view.output = row.output;
  return view;
}

export async function readExecution(db: SqlQueryable, id: string): Promise<ExecutionView | undefined> {
  if (!isUuid(id)) return undefined;
  const { rows } = await db.query<ExecutionRow>(`SELECT ${VIEW_COLUMNS} FROM execution WHERE id = $1`, [id]);
  if (!rows[0]) return undefined;
  return toView(rows[0]);
}

interface EventRow {
  seq: number;
  last_seq: number;
  events: string;
}

/**
 * Events come back as plain objects of the same shape as the event classes; with `hashes` each also keeps
 * the `hash` of its history-chain link (absent in histories written before receipts existed).
 */
export async function readEvents(db: SqlQueryable, executionId: string, afterSeq = 0, limit?: number, hashes = false): Promise<ExecutionEvent[]> {
  if (!isUuid(executionId)) return [];
  const { rows } = await db.query<EventRow>(
    `SELECT seq, last_seq, events FROM execution_event WHERE execution_id = $1 AND last_seq > $2 ORDER BY seq`,
    [executionId, afterSeq],
  );
  const out: ExecutionEvent[] = [];
  for (const row of rows) {
    for (const e of JSON.parse(row.events) as Array<Record<string, unknown>>) {
      if ((e.seq as number) <= afterSeq) continue;
      // the hash is the last member stored: deleting it keeps the object in V8's fast mode
      if (!hashes) delete e.hash;
      e.executionId = executionId;
      out.push(e as unknown as ExecutionEvent);
      if (limit !== undefined && out.length >= limit) return out;
    }
  }
  return out;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** ids from the outside (URLs) that are not uuids cannot exist; answering early avoids a cast error */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
