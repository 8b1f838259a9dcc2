import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

export const DEFAULT_AUDIT_PAGE = 100;
export const MAX_AUDIT_PAGE = 1000;

export class ListAuditQueryDto {
  @ApiPropertyOptional({ description: 'only entries with a greater seq (0 = from the start)', minimum: 0 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(0)
  afterSeq?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_AUDIT_PAGE, default: DEFAULT_AUDIT_PAGE })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(MAX_AUDIT_PAGE)
  limit?: number;
}

// ---- OpenAPI descriptions ----
export class AuditEntrySchema {
  @ApiProperty({ description: '1, 2, 3… without gaps' }) seq!: number;
  @ApiProperty({ description: 'ISO-8601 instant (Date#toISOString)' }) at!: string;
  @ApiProperty({ description: '`key:<id>`, `anonymous` or `system`' }) actor!: string;
  @ApiProperty({ description: 'e.g. `workflows.create`, `execution.node.succeeded`' }) action!: string;
  @ApiProperty({ description: 'e.g. `workflow:<id>`, `execution:<id>`' }) target!: string;
  @ApiProperty({ description: 'redacted JSON', type: 'object', additionalProperties: true }) details!: unknown;
  @ApiProperty({ description: 'hash of the previous entry (64 zeros for the first)' }) prevHash!: string;
  @ApiProperty({ description: 'SHA-256 hex of the RFC 8785 canonical JSON of {seq, at, actor, action, target, details, prevHash}' }) hash!: string;
}

export class AuditPageSchema {
  @ApiProperty({ type: [AuditEntrySchema] }) items!: AuditEntrySchema[];
  @ApiPropertyOptional({ description: 'pass as afterSeq for the next page; absent on the last page' }) nextAfterSeq?: number;
}

export class AuditHeadSchema {
  @ApiProperty() seq!: number;
  @ApiProperty() hash!: string;
}
