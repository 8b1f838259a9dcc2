import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { ROLES, type Role } from '@anchorflow/security';
import { MAX_KEY_NAME_LENGTH } from './api-keys.js';

export class CreateApiKeyDto {
  @ApiProperty({ description: 'what the key is for (shown in listings)', maxLength: MAX_KEY_NAME_LENGTH })
  @IsString() @MinLength(1) @MaxLength(MAX_KEY_NAME_LENGTH)
  name!: string;

  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES)
  role!: Role;

  @ApiPropertyOptional({ format: 'date-time', description: 'the key stops working at this instant (future); default: never' })
  @IsOptional() @IsISO8601({ strict: true })
  expiresAt?: string;
}

export class ApiKeySchema {
  @ApiProperty({ description: '16 hex characters: the public part of the key' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ROLES }) role!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiPropertyOptional({ format: 'date-time', nullable: true }) expiresAt!: string | null;
  @ApiPropertyOptional({ format: 'date-time', nullable: true }) revokedAt!: string | null;
  @ApiPropertyOptional({ format: 'date-time', nullable: true, description: 'updated at most once a minute' }) lastUsedAt!: string | null;
}

export class CreatedApiKeySchema extends ApiKeySchema {
  @ApiProperty({ description: 'the API key (afk_…): shown only in this response; only its hash is stored' }) secret!: string;
}

export class TokenSchema {
  @ApiProperty({ description: 'editor token (JWT); send as Authorization: Bearer <token>' }) token!: string;
  @ApiProperty({ format: 'date-time' }) expiresAt!: string;
  @ApiProperty({ enum: ROLES, description: 'the role of the key, carried by the token' }) role!: string;
}
