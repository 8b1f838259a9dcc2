import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

/** `true`/`false`/`1`/`0` → boolean; anything else is left for @IsBoolean to reject. */
export const toBoolean = ({ value }: { value: unknown }): unknown => (value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value);

export class PageQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(MAX_PAGE_SIZE)
  limit?: number;

  @ApiPropertyOptional({ description: 'opaque cursor from the previous page (nextCursor)' })
  @IsOptional() @IsString() @MaxLength(1000)
  cursor?: string;
}
