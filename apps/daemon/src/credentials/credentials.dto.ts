import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsObject, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { CREDENTIAL_TYPE_PATTERN, MAX_CREDENTIAL_NAME_LENGTH } from './credentials.js';

export class CreateCredentialDto {
  @ApiProperty({ description: 'what the data is for, e.g. smtp, evm.signer (letters, digits, . _ -)', example: 'smtp' })
  @IsString() @Matches(CREDENTIAL_TYPE_PATTERN, { message: 'type must start with a letter and hold only letters, digits, . _ - (at most 100)' })
  type!: string;

  @ApiProperty({ description: 'unique; node params refer to the credential by this name', maxLength: MAX_CREDENTIAL_NAME_LENGTH })
  @IsString() @MinLength(1) @MaxLength(MAX_CREDENTIAL_NAME_LENGTH)
  name!: string;

  @ApiProperty({ type: 'object', additionalProperties: true, description: 'the secret data; stored encrypted, never returned' })
  @IsObject()
  data!: Record<string, unknown>;
}

export class UpdateCredentialDto {
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'replaces the stored data' })
  @IsObject()
  data!: Record<string, unknown>;

  @ApiPropertyOptional({ maxLength: MAX_CREDENTIAL_NAME_LENGTH })
  @IsOptional() @IsString() @MinLength(1) @MaxLength(MAX_CREDENTIAL_NAME_LENGTH)
  name?: string;
}

export class CredentialSchema {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() type!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}
