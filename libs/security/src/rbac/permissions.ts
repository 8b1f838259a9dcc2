import { SecurityError } from '../errors/security-error.js';

export const ROLES = ['admin', 'editor', 'operator', 'auditor', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = [
  'workflows:read',
  'workflows:write',
  'executions:read',
  'executions:run',
  'executions:cancel',
  'approvals:decide',
  'audit:read',
  'proofs:read',
  'credentials:read-meta',
  'credentials:write',
  'keys:manage',
  'plugins:read',
  'system:read',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

const grant = (...permissions: Permission[]): ReadonlySet<Permission> => new Set(permissions);

/**
 * Who may do what (issue 4). Deliberately not a hierarchy: an auditor must not run things and an operator
 * must not edit graphs, so each role lists exactly its grants. Choices beyond the one-liners:
 * - editor also reads executions (to see what their graph did), the node-type catalog (to edit at all) and
 *   credential metadata (to pick a credential by name; the data itself is never readable by anyone).
 * - operator reads workflows, executions and the catalog, which it needs to know what it runs or approves.
 * - viewer reads the catalog so the editor can render a graph read-only.
 * - only admin manages keys, writes credentials and reads system internals (metrics, config check).
 */
export const ROLE_PERMISSIONS: Readonly<Record<Role, ReadonlySet<Permission>>> = Object.freeze({
  admin: grant(...PERMISSIONS),
  editor: grant('workflows:read', 'workflows:write', 'executions:read', 'plugins:read', 'credentials:read-meta'),
  operator: grant(
    'executions:run',
    'executions:cancel',
    'approvals:decide',
    'workflows:read',
    'executions:read',
    'plugins:read',
  ),
  auditor: grant('executions:read', 'audit:read', 'proofs:read'),
  viewer: grant('workflows:read', 'executions:read', 'plugins:read'),
});

const roleSet: ReadonlySet<string> = new Set(ROLES);
const permissionSet: ReadonlySet<string> = new Set(PERMISSIONS);

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && roleSet.has(value);
}

export function isPermission(value: unknown): value is Permission {
  return typeof value === 'string' && permissionSet.has(value);
}

/** Roles come from tokens and DB rows; an unknown role (typo, downgraded schema) must fail closed. */
export function can(role: Role | string, permission: Permission): boolean {
  return isRole(role) && ROLE_PERMISSIONS[role].has(permission);
}

export function assertCan(role: Role | string, permission: Permission): void {
  if (!can(role, permission)) {
    throw new SecurityError('FORBIDDEN', `role '${String(role)}' lacks permission '${permission}'`, { role, permission });
  }
}

export function permissionsOf(role: Role | string): Permission[] {
  return isRole(role) ? PERMISSIONS.filter((p) => ROLE_PERMISSIONS[role].has(p)) : [];
}
