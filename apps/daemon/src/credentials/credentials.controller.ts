import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequirePermission } from '../auth/access.decorators.js';
import type { CredentialMeta, CredentialScopes } from './credential.store.js';
import { Credentials } from './credentials.js';
import { CreateCredentialDto, CredentialSchema, UpdateCredentialDto } from './credentials.dto.js';
import { ApiErrors } from '../openapi/api-errors.decorator.js';

export interface CredentialDto {
  id: string;
  type: string;
  name: string;
  scopes: CredentialScopes;
  createdAt: string;
  updatedAt: string;
}

/** Metadata only: the data goes in, never out. */
export function presentCredential(c: CredentialMeta): CredentialDto {
  return { id: c.id, type: c.type, name: c.name, scopes: c.scopes ?? {}, createdAt: c.createdAt.toISOString(), updatedAt: c.updatedAt.toISOString() };
}

@ApiTags('credentials')
@Controller('credentials')
export class CredentialsController {
  constructor(@Inject(Credentials) private readonly credentials: Credentials) {}

  @Post()
  @RequirePermission('credentials:write')
  @ApiOperation({ summary: 'Store a credential: data encrypted with the master key (AES-256-GCM), optional scopes (workflows, nodeTypes, allowHosts); 409 if the name is taken' })
  @ApiErrors({ 409: 'a credential with this name exists already' })
  @ApiCreatedResponse({ type: CredentialSchema })
  async create(@Body() body: CreateCredentialDto): Promise<CredentialDto> {
    return presentCredential(await this.credentials.create(body));
  }

  @Get()
  @RequirePermission('credentials:read-meta')
  @ApiOperation({ summary: 'List credentials (metadata only), by name' })
  @ApiOkResponse({ type: CredentialSchema, isArray: true })
  async list(): Promise<{ items: CredentialDto[] }> {
    return { items: (await this.credentials.list()).map(presentCredential) };
  }

  @Get(':id')
  @RequirePermission('credentials:read-meta')
  @ApiOperation({ summary: 'A credential\'s metadata (never its data)' })
  @ApiOkResponse({ type: CredentialSchema })
  async get(@Param('id') id: string): Promise<CredentialDto> {
    return presentCredential(await this.credentials.get(id));
  }

  @Put(':id')
  @RequirePermission('credentials:write')
  @ApiOperation({ summary: 'Replace a credential\'s data (and optionally its name and scopes)' })
  @ApiErrors({ 409: 'the new name is taken by another credential' })
  @ApiOkResponse({ type: CredentialSchema })
  async update(@Param('id') id: string, @Body() body: UpdateCredentialDto): Promise<CredentialDto> {
    return presentCredential(await this.credentials.update(id, body));
  }

  @Delete(':id')
  @HttpCode(204)
  @RequirePermission('credentials:write')
  @ApiOperation({ summary: 'Delete a credential' })
  async remove(@Param('id') id: string): Promise<void> {
    await this.credentials.delete(id);
  }
}
