import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsObject, IsOptional } from 'class-validator';

export class VerifyProofDto {
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'the proof file (ARCHITECTURE §9)' })
  @IsObject()
  proof!: Record<string, unknown>;

  @ApiPropertyOptional({ description: 'the original data: when given, the leaf must be its hash' })
  @IsOptional()
  data?: unknown;

  @ApiPropertyOptional({ description: 'check on chain too (default true): event in the transaction, block canonical and deep enough' })
  @IsOptional()
  @IsBoolean()
  online?: boolean;
}
