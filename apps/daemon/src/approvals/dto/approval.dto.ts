import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { PageQueryDto } from '../../common/query-params.js';

export const DECISIONS = ['approve', 'reject'] as const;
export type Decision = (typeof DECISIONS)[number];

export class DecideApprovalDto {
  @ApiProperty({ enum: DECISIONS, example: 'approve' })
  @IsIn(DECISIONS)
  decision!: Decision;

  @ApiPropertyOptional({ maxLength: 2000, example: 'checked the invoice' })
  @IsOptional() @IsString() @MaxLength(2000)
  comment?: string;
}

export class ListApprovalsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: ['pending'], default: 'pending', description: 'only approvals waiting for a decision (the only status listed)' })
  @IsOptional() @IsIn(['pending'])
  status?: 'pending';
}

// ---- OpenAPI descriptions ----
export class ApprovalDecidedSchema {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid', description: 'same as id' }) executionId!: string;
  @ApiProperty({ enum: ['running'] }) status!: string;
  @ApiProperty({ example: 'approve' }) nodeId!: string;
  @ApiProperty({ enum: DECISIONS }) decision!: Decision;
  @ApiProperty({ example: 'alice', description: 'the API key name of the caller (key:<id> when it has none)' }) by!: string;
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiPropertyOptional() comment?: string;
}

export class PendingApprovalSchema {
  @ApiProperty({ format: 'uuid' }) executionId!: string;
  @ApiProperty({ format: 'uuid' }) workflowId!: string;
  @ApiProperty() version!: number;
  @ApiProperty({ example: 'approve' }) nodeId!: string;
  @ApiProperty({ type: [String], example: ['operator', 'alice'] }) approvers!: string[];
  @ApiPropertyOptional({ example: 'Pay invoice INV-1042?' }) message?: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'when the node started waiting' }) since?: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'when it decides by itself (timeoutMs)' }) timeoutAt?: string;
  @ApiProperty({ description: 'POST here to decide', example: '/api/v1/executions/6f1c…/approvals/approve' }) decideAt!: string;
}

export class PendingApprovalPageSchema {
  @ApiProperty({ type: [PendingApprovalSchema] }) items!: PendingApprovalSchema[];
  @ApiPropertyOptional({ description: 'more waiting executions to look at: pass as cursor (a page may hold fewer items than limit)' }) nextCursor?: string;
}
