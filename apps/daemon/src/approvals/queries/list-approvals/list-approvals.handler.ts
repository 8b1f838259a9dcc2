import { Inject } from '@nestjs/common';
import { type IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import type { Engine, ExecutionReader, Page } from '@anchorflow/engine';
import { EXECUTION_READER } from '../../../core/database/database.tokens.js';
import { ENGINE } from '../../../engine/engine.tokens.js';
import { APPROVAL_TOKEN_PREFIX, approvalSpecOf, mayDecide } from '../../approvers.js';
import { ListApprovalsQuery, type PendingApproval } from './list-approvals.query.js';

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

/**
 * Reads one page of waiting executions (`limit` of them) and lists their approval nodes that wait for a
 * decision the caller may make. A page can therefore hold fewer items than `limit`: follow nextCursor.
 */
@QueryHandler(ListApprovalsQuery)
export class ListApprovalsHandler implements IQueryHandler<ListApprovalsQuery> {
  constructor(
    @Inject(ENGINE) private readonly engine: Pick<Engine, 'describe' | 'graph'>,
    @Inject(EXECUTION_READER) private readonly reader: Pick<ExecutionReader, 'list'>,
  ) {}

  async execute({ principal, limit, cursor }: ListApprovalsQuery): Promise<Page<PendingApproval>> {
    const page = await this.reader.list({ status: 'waiting', limit, ...(cursor ? { cursor } : {}) });
    const items: PendingApproval[] = [];
    for (const summary of page.items) {
      const view = await this.engine.describe(summary.id);
      if (!view || view.status !== 'waiting') continue;
      const waiting = view.nodeRuns.filter((n) => n.status === 'waiting' && n.resumeToken?.startsWith(APPROVAL_TOKEN_PREFIX));
      if (!waiting.length) continue;
      const graph = await this.engine.graph(view.workflowId, view.workflowVersion);
      for (const run of waiting) {
        const spec = approvalSpecOf(graph.byId.get(run.nodeId));
        if (!spec || !mayDecide(principal, spec.approvers)) continue;
        items.push({
          executionId: view.id,
          workflowId: view.workflowId,
          version: view.workflowVersion,
          nodeId: run.nodeId,
          approvers: spec.approvers,
          ...(spec.message !== undefined ? { message: spec.message } : {}),
          ...(run.startedAt !== undefined ? { since: iso(run.startedAt) } : {}),
          ...(run.waitUntil !== undefined ? { timeoutAt: iso(run.waitUntil) } : {}),
          decideAt: `/api/v1/executions/${view.id}/approvals/${encodeURIComponent(run.nodeId)}`,
        });
      }
    }
    return { items, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
  }
}
