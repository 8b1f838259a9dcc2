import { chainLink, eventBody, historyGenesis, type ExecutionEvent, type ExecutionView } from '@anchorflow/engine';
import { canonicalJson } from '@anchorflow/plugin-sdk';
import type { SqlStatement } from '../database/sql-pool.js';
import { storable, toJsonText } from '../internal/json-text.js';

/** Everything appended for one execution since its last commit. */
export interface PendingExecution {
  executionId: string;
  events: ExecutionEvent[];
  view: () => ExecutionView;
  /** number of the first append in here; durable() waits for every entry at or below its mark */
  firstAppend: number;
  /** the hash chain of these events, computed once per event (a retried flush reuses it) */
  chain?: { texts: string[]; last: string };
}

/** The last hash written for an execution (its seq), by execution: where the next chunk's chain continues. */
export type HistoryHeads = Map<string, { seq: number; hash: string }>;

/** chains start here when the head before them could not be found: verification then names the first such event */
export const UNKNOWN_HEAD = '0x' + '0'.repeat(64);

/**
 * One statement (hence one transaction, one round trip) per flush: all events, each touched
 * execution's projection once, and the resume tokens of those executions.
 *
 * It is idempotent, because a commit whose acknowledgement was lost is retried: an event row (the
 * events one flush appended for one execution) is only replaced by a superset starting at the same
 * seq; a projection only replaces one with a lower or equal seq.
 * A dedupe key already taken by another execution is not stored for the newcomer: the newcomer's
 * history must still be written, and a unique violation would fail every retry of the batch.
 */
const FLUSH_SQL = `
WITH ev AS (
  INSERT INTO execution_event AS cur (execution_id, seq, last_seq, events)
  SELECT * FROM unnest($6::uuid[], $7::int[], $8::int[], string_to_array($1::text, E'\\x1e'))
  ON CONFLICT (execution_id, seq) DO UPDATE SET last_seq = excluded.last_seq, events = excluded.events
  WHERE cur.last_seq < excluded.last_seq
), src AS (
  SELECT (p->>'id')::uuid AS id, (p->>'workflowId')::uuid AS workflow_id, (p->>'workflowVersion')::int AS workflow_version,
    p->>'status' AS status, p->'input' AS input, p->'output' AS output, p->'error' AS error,
    p->>'triggerNodeId' AS trigger_node_id, p->>'dedupeKey' AS dedupe_key,
    to_timestamp((p->>'startedAt')::float8 / 1000) AS started_at, to_timestamp((p->>'finishedAt')::float8 / 1000) AS finished_at,
    (p->>'seq')::int AS seq, to_timestamp((p->>'wakeAt')::float8 / 1000) AS wake_at, coalesce(p->'nodeRuns', '[]') AS node_runs
  FROM jsonb_array_elements($2::jsonb) AS p
), proj AS (
  INSERT INTO execution AS cur (id, workflow_id, workflow_version, status, input, output, error, trigger_node_id, dedupe_key,
    started_at, finished_at, seq, wake_at, node_runs, updated_at, owner, lease_expires_at)
  SELECT s.id, s.workflow_id, s.workflow_version, s.status, s.input, s.output, s.error, s.trigger_node_id,
    CASE WHEN NOT EXISTS (SELECT 1 FROM execution o WHERE o.workflow_id = s.workflow_id AND o.dedupe_key = s.dedupe_key AND o.id <> s.id)
      THEN s.dedupe_key END,
    s.started_at, s.finished_at, s.seq, s.wake_at, s.node_runs, now(), $4, now() + $5::int * interval '1 millisecond'
  FROM src s
  ON CONFLICT (id) DO UPDATE SET status = excluded.status, output = excluded.output, error = excluded.error,
    finished_at = excluded.finished_at, seq = excluded.seq, wake_at = excluded.wake_at, node_runs = excluded.node_runs,
    updated_at = excluded.updated_at
  WHERE cur.seq <= excluded.seq
), tokens AS (
  SELECT k->>'token' AS token, (k->>'executionId')::uuid AS execution_id, k->>'nodeId' AS node_id
  FROM jsonb_array_elements($3::jsonb) AS k
), gone AS (
  DELETE FROM resume_token r USING src s
  WHERE r.execution_id = s.id AND NOT EXISTS (SELECT 1 FROM tokens t WHERE t.token = r.token)
)
INSERT INTO resume_token (token, execution_id, node_id)
SELECT token, execution_id, node_id FROM tokens
ON CONFLICT (token) DO NOTHING`;

export function dedupeSlot(workflowId: string, dedupeKey: string): string {
  return `${workflowId}\n${dedupeKey}`;
}

/** The flush statement for these executions (exported for the benchmark). */
export function buildFlushStatement(
  entries: Iterable<PendingExecution>,
  warn: (message: string) => void = () => undefined,
  owner = 'local',
  leaseMs = 15_000,
  /** the hash chain's heads (the store's); without it events are stored without hashes (benchmarks only) */
  heads?: HistoryHeads,
): SqlStatement & { values: unknown[]; eventCount: number } {
  const chunks: string[] = [];
  const ids: string[] = [];
  const firstSeqs: number[] = [];
  const lastSeqs: number[] = [];
  let eventCount = 0;
  const views: ExecutionView[] = [];
  const tokens: Array<{ token: string; executionId: string; nodeId: string }> = [];
  const dedupeTaken = new Map<string, string>();
  for (const entry of entries) {
    if (entry.events.length) {
      ids.push(entry.executionId);
      firstSeqs.push(entry.events[0]!.seq);
      lastSeqs.push(entry.events[entry.events.length - 1]!.seq);
      chunks.push(heads ? chainedEventsText(entry, heads, warn) : eventsText(entry.events));
      eventCount += entry.events.length;
    }
    let view = entry.view();
    if (view.dedupeKey !== undefined) {
      const slot = dedupeSlot(view.workflowId, view.dedupeKey);
      const holder = dedupeTaken.get(slot);
      if (holder && holder !== view.id) {
        warn(`executions ${holder} and ${view.id} share the dedupe key "${view.dedupeKey}"; ${view.id} is stored without it`);
        view = { ...view, dedupeKey: undefined };
      } else {
        dedupeTaken.set(slot, view.id);
      }
    }
    for (const run of view.nodeRuns) {
      if (run.status === 'waiting' && run.resumeToken) tokens.push({ token: run.resumeToken, executionId: view.id, nodeId: run.nodeId });
    }
    // node runs are a fold of the events (Engine.describe): the row is a summary, kept small because
    // it is rewritten on every flush that touches the execution
    views.push({ ...view, nodeRuns: [] });
  }
  return {
    name: 'anchorflow_flush',
    text: FLUSH_SQL,
    values: [chunks.join('\x1e'), toJsonText(views), toJsonText(tokens), owner, leaseMs, ids, firstSeqs, lastSeqs],
    eventCount,
  };
}

/** the events of one commit as JSON text, without the executionId each of them repeats */
function eventsText(events: readonly ExecutionEvent[]): string {
  const slim = events.map(({ executionId: _x, ...rest }) => rest);
  try {
    return JSON.stringify(slim);
  } catch {
    return toJsonText(slim); // bigints, cycles
  }
}

/**
 * The events of one commit as JSON text, each with its `hash` (libs/engine history-chain.ts) spliced in as
 * its last member. What is stored is the canonical JSON the hash covers (one serialisation per event, as
 * before, only canonical: object members come back sorted by key). Each event is hashed once: a retried
 * flush reuses `entry.chain`.
 */
function chainedEventsText(entry: PendingExecution, heads: HistoryHeads, warn: (message: string) => void): string {
  const events = entry.events;
  const executionId = entry.executionId;
  let chain = entry.chain;
  if (!chain) {
    const firstSeq = events[0]!.seq;
    const head = heads.get(executionId);
    let prev: string;
    if (firstSeq === 1) prev = historyGenesis(executionId);
    else if (head?.seq === firstSeq - 1) prev = head.hash;
    else {
      warn(`execution ${executionId}: the history hash before seq ${firstSeq} is unknown; its hash chain is broken there`);
      prev = UNKNOWN_HEAD;
    }
    chain = entry.chain = { texts: [], last: prev };
  }
  for (let i = chain.texts.length; i < events.length; i++) {
    let canonical: string;
    try {
      canonical = eventBody(events[i]!);
    } catch {
      // lone surrogates, bigints, cycles: stored (and hashed) the way toJsonText makes them storable
      const { executionId: _x, ...body } = events[i] as ExecutionEvent & Record<string, unknown>;
      // (through JSON text: NaN and Infinity become null there, as JSON.stringify always stored them)
      canonical = canonicalJson(JSON.parse(JSON.stringify(storable(body, new Set()))));
    }
    const hash = chainLink(chain.last, canonical);
    chain.texts.push(canonical.length > 2 ? `${canonical.slice(0, -1)},"hash":"${hash}"}` : `{"hash":"${hash}"}`);
    chain.last = hash;
  }
  const last = events[events.length - 1]!;
  if (last.type === 'execution.finished') heads.delete(executionId);
  else heads.set(executionId, { seq: last.seq, hash: chain.last });
  return `[${chain.texts.join(',')}]`;
}
