import { can } from '@anchorflow/security';
import type { AuthPrincipal } from '../auth/principal.js';
import { ApiError } from '../common/api-error.js';

/**
 * Trigger types that let callers outside the API's RBAC start executions (anyone who can reach /hooks).
 * Turning one on is starting executions, so it needs `executions:run` besides `workflows:write`
 * (issue 17: an editor could otherwise activate a webhook and run the workflow anonymously).
 */
export const PUBLIC_TRIGGER_TYPES: ReadonlySet<string> = new Set(['core.trigger.webhook']);

/** 403 when the graph has a public trigger and the caller may not run executions. */
export function assertMayExposeTriggers(principal: AuthPrincipal | undefined, nodes: unknown): void {
  if (!Array.isArray(nodes)) return;
  const exposed = nodes.filter((n): n is { id?: unknown; type: string } => typeof n === 'object' && n !== null && PUBLIC_TRIGGER_TYPES.has((n as { type?: unknown }).type as string));
  if (!exposed.length || (principal && can(principal.role, 'executions:run'))) return;
  throw new ApiError(403, 'FORBIDDEN', `activating a workflow with a public trigger (${exposed.map((n) => `${String(n.id)}: ${n.type}`).join(', ')}) starts executions: role '${principal?.role ?? 'anonymous'}' lacks permission 'executions:run'`, {
    role: principal?.role,
    permission: 'executions:run',
    nodes: exposed.map((n) => n.id),
  });
}
