import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, Min } from 'class-validator';
import { PageQueryDto, toBoolean } from '../../common/query-params.js';

export class ListWorkflowsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'only active (true) or inactive (false) workflows' })
  @IsOptional() @Transform(toBoolean) @IsBoolean()
  active?: boolean;
}

export class GetWorkflowQueryDto {
  @ApiPropertyOptional({ minimum: 1, description: 'a specific version (default: the latest)' })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1)
  version?: number;
}

// ---- OpenAPI descriptions only (workflow bodies are validated by the engine, which reports JSON paths) ----

export class WorkflowNodeSchema {
  @ApiProperty({ example: 'start' }) id!: string;
  @ApiProperty({ example: 'core.trigger.manual', description: 'a type from GET /api/v1/node-types' }) type!: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'validated against the node type\'s paramsSchema; strings starting with = are JSONata expressions' }) params?: Record<string, unknown>;
  @ApiPropertyOptional({ type: 'object', properties: { x: { type: 'number' }, y: { type: 'number' } } }) position?: { x: number; y: number };
  @ApiPropertyOptional({ type: 'object', properties: { maxAttempts: { type: 'integer' }, backoffMs: { type: 'integer' }, factor: { type: 'number' }, maxBackoffMs: { type: 'integer' } } }) retry?: object;
  @ApiPropertyOptional() timeoutMs?: number;
  @ApiPropertyOptional({ enum: ['stop', 'continue', 'errorPort'], description: 'what a final failure does: stop the execution (default), continue with {error} on main, or send {error} out on the error port' }) onError?: 'stop' | 'continue' | 'errorPort';
  @ApiPropertyOptional({ deprecated: true, description: 'same as onError: "errorPort"' }) continueOnFail?: boolean;
}

export class WorkflowEdgeSchema {
  @ApiProperty() from!: string;
  @ApiProperty() to!: string;
  @ApiPropertyOptional({ default: 'main' }) fromPort?: string;
  @ApiPropertyOptional({ default: 'main' }) toPort?: string;
}

export class WorkflowDefinitionSchema {
  @ApiProperty({ example: 'Invoice approved → notify' }) name!: string;
  @ApiPropertyOptional() description?: string;
  @ApiProperty({ type: [WorkflowNodeSchema] }) nodes!: WorkflowNodeSchema[];
  @ApiProperty({ type: [WorkflowEdgeSchema] }) edges!: WorkflowEdgeSchema[];
}

export class UpdateWorkflowSchema extends WorkflowDefinitionSchema {
  @ApiProperty({ description: 'the version being replaced (must be the current one, else 409)' }) version!: number;
}

export class WorkflowSchema extends WorkflowDefinitionSchema {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() version!: number;
  @ApiProperty() active!: boolean;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export class LayoutSchema {
  @ApiProperty({ type: [WorkflowNodeSchema] }) nodes!: WorkflowNodeSchema[];
  @ApiProperty({ type: [WorkflowEdgeSchema] }) edges!: WorkflowEdgeSchema[];
}
