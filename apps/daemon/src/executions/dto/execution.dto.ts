import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { Allow, IsIn, IsInt, IsOptional, IsString, IsUUID, Max, MaxLength, Min } from 'class-validator';
import type { ExecutionStatus } from '@anchorflow/engine';
import { PageQueryDto } from '../../common/query-params.js';
import { ErrorInfoSchema, JSON_OBJECT } from '../../openapi/response-schemas.js';

export const EXECUTION_STATUSES: readonly ExecutionStatus[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'waiting'];

export class StartExecutionDto {
  @ApiPropertyOptional({ description: 'the execution input (what the trigger node emits); default {}', ...JSON_OBJECT, example: { invoiceId: 'INV-1042', amount: 1200 } })
  @Allow()
  input?: unknown;

  @ApiPropertyOptional({ description: 'which trigger/start node fires (default: the first manual trigger, else the first trigger)' })
  @IsOptional() @IsString() @MaxLength(200)
  triggerNodeId?: string;
}

export class StartExecutionQueryDto {
  @ApiPropertyOptional({ description: 'wait up to this many ms for the execution to finish (capped by http.maxWaitMs)' })
  @IsOptional() @Type(() => Number) @IsInt() @Min(0)
  wait?: number;
}

export class ListExecutionsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional() @IsUUID('all')
  workflowId?: string;

  @ApiPropertyOptional({ enum: EXECUTION_STATUSES })
  @IsOptional() @IsIn(EXECUTION_STATUSES)
  status?: ExecutionStatus;
}

export class ListEventsQueryDto {
  @ApiPropertyOptional({ description: 'only events with a greater seq' })
  @IsOptional() @Type(() => Number) @IsInt() @Min(0)
  afterSeq?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 500 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000)
  limit?: number;

  @ApiPropertyOptional({ enum: ['receipt'], description: 'receipt: the whole history as stored, with each event\'s hash (afterSeq and limit do not apply)' })
  @IsOptional() @IsIn(['receipt'])
  format?: 'receipt';
}

export class CancelExecutionDto {
  @ApiPropertyOptional()
  @IsOptional() @IsString() @MaxLength(500)
  reason?: string;
}

export class ResumeExecutionDto {
  @ApiPropertyOptional({ description: 'handed to the waiting node', ...JSON_OBJECT, example: { approved: true } })
  @Allow()
  data?: unknown;
}

// ---- OpenAPI descriptions ----
/** A reference to an execution (202 answers, cancel, resume, webhooks answering immediately). */
export class ExecutionStartedSchema {
  @ApiProperty({ format: 'uuid', description: 'the execution id (GET /api/v1/executions/{id})' }) id!: string;
  @ApiProperty({ format: 'uuid', description: 'same as id, kept for clients of the first release' }) executionId!: string;
  @ApiProperty({ enum: [...EXECUTION_STATUSES, 'cancelling'] }) status!: ExecutionStatus | 'cancelling';
}

export class ExecutionResumedSchema extends ExecutionStartedSchema {
  @ApiProperty({ example: 'approval', description: 'the node that was waiting on the token' }) nodeId!: string;
}

export class NodeRunSchema {
  @ApiProperty() nodeId!: string;
  @ApiProperty({ enum: ['pending', 'running', 'succeeded', 'failed', 'skipped', 'cancelled', 'waiting'] }) status!: string;
  @ApiProperty() attempt!: number;
  @ApiPropertyOptional({ ...JSON_OBJECT }) input?: unknown;
  @ApiPropertyOptional({ description: 'payload per output port', ...JSON_OBJECT }) output?: unknown;
  @ApiPropertyOptional({ type: () => ErrorInfoSchema }) error?: unknown;
  @ApiPropertyOptional({ format: 'date-time' }) startedAt?: string;
  @ApiPropertyOptional({ format: 'date-time' }) finishedAt?: string;
}

export class ExecutionParentSchema {
  @ApiProperty({ format: 'uuid' }) executionId!: string;
  @ApiProperty({ format: 'uuid' }) workflowId!: string;
  @ApiPropertyOptional({ description: 'the core.subworkflow node that started it' }) nodeId?: string;
  @ApiProperty({ enum: ['subworkflow', 'error'] }) reason!: string;
  @ApiProperty({ description: 'the parent waits for this execution' }) wait!: boolean;
  @ApiProperty({ description: 'how many parents are above it (1: started by a top-level execution)' }) depth!: number;
}

export class ExecutionSchema {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) workflowId!: string;
  @ApiProperty() version!: number;
  @ApiProperty({ enum: EXECUTION_STATUSES }) status!: string;
  @ApiProperty({ ...JSON_OBJECT }) input!: unknown;
  @ApiPropertyOptional({ description: 'outputs of the succeeded sink nodes by node id', ...JSON_OBJECT }) output?: unknown;
  @ApiPropertyOptional({ type: () => ErrorInfoSchema }) error?: unknown;
  @ApiPropertyOptional({ type: () => ExecutionParentSchema, description: 'the execution that started this one (a core.subworkflow node, or a failure whose workflow names this one as settings.errorWorkflowId)' }) parent?: ExecutionParentSchema;
  @ApiProperty({ type: [NodeRunSchema] }) nodeRuns!: NodeRunSchema[];
  @ApiProperty({ format: 'date-time' }) startedAt!: string;
  @ApiPropertyOptional({ format: 'date-time' }) finishedAt?: string;
}
