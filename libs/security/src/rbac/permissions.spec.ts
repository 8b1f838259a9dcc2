import { describe, expect, it } from '@jest/globals';
import { assertCan, can, isPermission, isRole, PERMISSIONS, permissionsOf, ROLE_PERMISSIONS, ROLES, type Permission, type Role } from './permissions.js';
import { catchSecurityError } from '../spec-support/errors.js';

// The whole matrix spelled out, so any change to a grant is a deliberate edit of this table.
const EXPECTED: Record<Role, Permission[]> = {
  admin: [...PERMISSIONS],
  editor: ['workflows:read', 'workflows:write', 'executions:read', 'credentials:read-meta', 'plugins:read'],
  operator: ['workflows:read', 'executions:read', 'executions:run', 'executions:cancel', 'approvals:decide', 'plugins:read'],
  auditor: ['executions:read', 'audit:read', 'proofs:read'],
  viewer: ['workflows:read', 'executions:read', 'plugins:read'],
};

describe('roles and permissions', () => {
  it('lists the five roles and thirteen permissions of issue 4', () => {
    expect([...ROLES].sort()).toEqual(['admin', 'auditor', 'editor', 'operator', 'viewer']);
    expect(PERMISSIONS).toHaveLength(13);
    expect(PERMISSIONS).toEqual(expect.arrayContaining(['credentials:read-meta', 'keys:manage', 'system:read', 'approvals:decide']));
  });

  it.each(ROLES)('%s: can() answers exactly the expected matrix row', (role) => {
    for (const permission of PERMISSIONS) {
      expect([permission, can(role, permission)]).toEqual([permission, EXPECTED[role].includes(permission)]);
    }
    expect(permissionsOf(role).sort()).toEqual([...EXPECTED[role]].sort());
    expect([...ROLE_PERMISSIONS[role]].sort()).toEqual([...EXPECTED[role]].sort());
  });

  it('keeps key management, credential writes and system internals admin-only', () => {
    for (const p of ['keys:manage', 'credentials:write', 'system:read'] as const) {
      expect(ROLES.filter((r) => can(r, p))).toEqual(['admin']);
    }
  });

  it('separates duties: auditors and viewers change nothing, editors do not run, operators do not edit', () => {
    const writes: Permission[] = ['workflows:write', 'executions:run', 'executions:cancel', 'approvals:decide', 'credentials:write', 'keys:manage'];
    for (const p of writes) {
      expect(can('auditor', p)).toBe(false);
      expect(can('viewer', p)).toBe(false);
    }
    expect(can('editor', 'executions:run')).toBe(false);
    expect(can('operator', 'workflows:write')).toBe(false);
    expect(can('viewer', 'audit:read')).toBe(false);
  });

  it('fails closed for roles it does not know (typo, stale token)', () => {
    expect(can('root', 'workflows:read')).toBe(false);
    expect(can('Admin', 'workflows:read')).toBe(false);
    expect(can('', 'workflows:read')).toBe(false);
    expect(permissionsOf('superuser')).toEqual([]);
    expect(isRole('admin')).toBe(true);
    expect(isRole('toString')).toBe(false);
    expect(isPermission('workflows:read')).toBe(true);
    expect(isPermission('workflows:*')).toBe(false);
  });

  it('assertCan throws FORBIDDEN naming the role and permission', () => {
    expect(() => assertCan('operator', 'executions:run')).not.toThrow();
    const err = catchSecurityError(() => assertCan('viewer', 'workflows:write'), 'FORBIDDEN');
    expect(err.message).toContain('viewer');
    expect(err.details).toEqual({ role: 'viewer', permission: 'workflows:write' });
  });
});
