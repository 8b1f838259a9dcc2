import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsObject, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { CREDENTIAL_TYPE_PATTERN, MAX_CREDENTIAL_NAME_LENGTH } from './credentials.js';

export class CredentialScopesSchema {
  @ApiPropertyOptional({ type: [String], description: 'workflow ids whose executions may use it (absent: any workflow)', example: ['0b9e9d3c-1111-4aaa-8bbb-123456789abc'] })
  workflows?: string[];

  @ApiPropertyOptional({ type: [String], description: 'node types that may use it (absent: any node type)', example: ['notify.webhook'] })
  nodeTypes?: string[];

  @ApiPropertyOptional({ type: [String], description: 'hosts a node holding it may call through ctx.fetch: names, *.suffix, addresses, CIDR ranges (absent: any the outbound policy allows)', example: ['hooks.example.com'] })
  allowHosts?: string[];
}

const SCOPES_DESCRIPTION = 'who may use it (issue 17): checked when a workflow naming it is saved and whenever a node resolves it';

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

  @ApiPropertyOptional({ type: CredentialScopesSchema, description: SCOPES_DESCRIPTION })
  @IsOptional() @IsObject()
  scopes?: CredentialScopesSchema;
}

export class UpdateCredentialDto {
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'replaces the stored data' })
  @IsObject()
  data!: Record<string, unknown>;

  @ApiPropertyOptional({ maxLength: MAX_CREDENTIAL_NAME_LENGTH })
  @IsOptional() @IsString() @MinLength(1) @MaxLength(MAX_CREDENTIAL_NAME_LENGTH)
  name?: string;

  @ApiPropertyOptional({ type: CredentialScopesSchema, description: `${SCOPES_DESCRIPTION}; replaces the stored scopes (absent: kept)` })
  @IsOptional() @IsObject()
  scopes?: CredentialScopesSchema;
}

export class CredentialSchema {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() type!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ type: CredentialScopesSchema, description: '{} when anyone may use it' }) scopes!: CredentialScopesSchema;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}
