import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min, Static } from '@anchorflow/plugin-sdk';
import { JSONSchema } from '@anchorflow/plugin-sdk';
import { Check, Defaulted } from '../../shared/validators.js';

export const MAX_APPROVAL_TIMEOUT_MS = 365 * 24 * 60 * 60 * 1000;
export const APPROVAL_TIMEOUT_ACTIONS = ['reject', 'approve', 'fail'] as const;
export type ApprovalTimeoutAction = (typeof APPROVAL_TIMEOUT_ACTIONS)[number];

const NAME_RE = /^[A-Za-z0-9_.:@-]{1,128}$/;

export class ApprovalParams {
  @JSONSchema({
    type: 'array',
    items: { type: 'string' },
    minItems: 1,
    description: 'Who may decide: role names (admin, operator…) or API key names. Fixed when the workflow is saved (the daemon checks the caller against it).',
  })
  @Static()
  @Check('approverList', (value) => {
    if (!Array.isArray(value) || value.length === 0) return 'must be a non-empty list of role or API key names';
    if (value.length > 100) return 'may list at most 100 names';
    const bad = value.findIndex((v) => typeof v !== 'string' || !NAME_RE.test(v));
    return bad >= 0 ? `[${bad}] must be a role or API key name (letters, digits, _ . : @ -; no expressions)` : undefined;
  })
  approvers!: string[];

  @JSONSchema({ description: 'What the approver is asked (shown in GET /api/v1/approvals).' })
  @IsOptional()
  @IsString()
  @MaxLength(10_000)
  message?: string;

  @JSONSchema({ description: 'Decide by itself after this many milliseconds (see onTimeout); without it the node waits until someone decides.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_APPROVAL_TIMEOUT_MS)
  timeoutMs?: number;

  @JSONSchema({ default: 'reject', description: 'After timeoutMs: leave by `rejected` or `approved` (decided by "timeout"), or `fail` the node (APPROVAL_TIMEOUT).' })
  @Defaulted()
  @IsIn(APPROVAL_TIMEOUT_ACTIONS)
  onTimeout: ApprovalTimeoutAction = 'reject';
}
