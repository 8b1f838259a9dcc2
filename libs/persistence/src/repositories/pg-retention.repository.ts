import type { SqlPool } from '../database/sql-pool.js';
import type { RetentionStore } from './retention.port.js';

const TERMINAL = `('succeeded', 'failed', 'cancelled')`;

/**
 * Deleting a batch is one statement (one transaction): the chosen executions are locked with SKIP LOCKED
 * (two daemons pruning at once take different rows), then their events and the executions go
 * (resume tokens follow by cascade). The age rule narrows by started_at first — anything that finished
 * before the cutoff started before it — so it walks the started_at index instead of the whole table.
 */
const DELETE_DOOMED = `
, ev AS (DELETE FROM execution_event e USING doomed d WHERE e.execution_id = d.id)
DELETE FROM execution x USING doomed d WHERE x.id = d.id RETURNING x.id`;

export class PgRetentionStore implements RetentionStore {
  constructor(private readonly db: { pool: SqlPool }) {}

  async pruneFinishedBefore(cutoff: Date, limit: number): Promise<number> {
    const { rowCount } = await this.db.pool.query(`
      WITH doomed AS (
        SELECT id FROM execution
        WHERE started_at < $1 AND status IN ${TERMINAL} AND coalesce(finished_at, updated_at) < $1
        ORDER BY started_at LIMIT $2
        FOR UPDATE SKIP LOCKED
      )${DELETE_DOOMED}`, [cutoff, limit]);
    return rowCount ?? 0;
  }

  async workflowsOver(keep: number): Promise<string[]> {
    const { rows } = await this.db.pool.query<{ workflow_id: string }>(
      `SELECT workflow_id FROM execution WHERE status IN ${TERMINAL} GROUP BY workflow_id HAVING count(*) > $1`, [keep]);
    return rows.map((r) => r.workflow_id);
  }

  async pruneWorkflowBeyond(workflowId: string, keep: number, limit: number): Promise<number> {
    const { rowCount } = await this.db.pool.query(`
      WITH doomed AS (
        SELECT id FROM execution
        WHERE workflow_id = $1 AND status IN ${TERMINAL}
        ORDER BY started_at DESC, id DESC OFFSET $2 LIMIT $3
        FOR UPDATE SKIP LOCKED
      )${DELETE_DOOMED}`, [workflowId, keep, limit]);
    return rowCount ?? 0;
  }
}
