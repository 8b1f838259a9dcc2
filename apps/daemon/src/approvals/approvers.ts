import type { CompiledNode } from '@anchorflow/engine';
import type { AuthPrincipal } from '../auth/principal.js';

/**
 * The token prefix of a node waiting for a person's decision (core.approval suspends on
 * `approval:<idempotency key>`). The public resume route refuses such tokens (a `:` is not allowed there):
 * decisions come only through POST /executions/:id/approvals/:nodeId, which checks the caller.
 */
export const APPROVAL_TOKEN_PREFIX = 'approval:';

/** What an approval node asks for: its `approvers` and `message` params when they are fixed values. */
export interface ApprovalSpec {
  approvers: string[];
  message?: string;
}

/** The approval spec of a workflow node, or undefined when the node is not an approval (no fixed `approvers` list). */
export function approvalSpecOf(node: CompiledNode | undefined): ApprovalSpec | undefined {
  const params = node?.params;
  const approvers = params?.approvers;
  if (!Array.isArray(approvers) || !approvers.every((a): a is string => typeof a === 'string')) return undefined;
  const message = params?.message;
  return { approvers, ...(typeof message === 'string' && !message.startsWith('=') ? { message } : {}) };
}

/** An approver entry names a role (`operator`) or an API key by name (editor tokens match by role or key id). */
export function mayDecide(principal: AuthPrincipal, approvers: readonly string[]): boolean {
  return approvers.includes(principal.role) || (principal.keyName !== undefined && approvers.includes(principal.keyName)) || approvers.includes(principal.keyId);
}

/** How a decision names who made it: the API key's name, else `key:<id>`. */
export function deciderName(principal: AuthPrincipal): string {
  return principal.keyName ?? `key:${principal.keyId}`;
}
