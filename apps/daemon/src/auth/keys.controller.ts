import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequirePermission } from './access.decorators.js';
import { ApiKeys, type ApiKeyInfo } from './api-keys.js';
import { ApiKeySchema, CreateApiKeyDto, CreatedApiKeySchema } from './keys.dto.js';
import { ApiErrors } from '../openapi/api-errors.decorator.js';

export interface ApiKeyDto {
  id: string;
  name: string;
  role: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

export function presentApiKey(key: ApiKeyInfo): ApiKeyDto {
  return {
    id: key.id,
    name: key.name,
    role: key.role,
    createdAt: key.createdAt.toISOString(),
    expiresAt: key.expiresAt?.toISOString() ?? null,
    revokedAt: key.revokedAt?.toISOString() ?? null,
    lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
  };
}

/** API key management (admin: keys:manage). Secrets are shown once, at creation; hashes never. */
@ApiTags('keys')
@Controller('keys')
@RequirePermission('keys:manage')
export class KeysController {
  constructor(@Inject(ApiKeys) private readonly keys: ApiKeys) {}

  @Post()
  @ApiOperation({ summary: 'Create an API key: 201 with its secret, shown only this once' })
  @ApiCreatedResponse({ type: CreatedApiKeySchema })
  async create(@Body() body: CreateApiKeyDto): Promise<ApiKeyDto & { secret: string }> {
    const { key, secret } = await this.keys.create({ name: body.name, role: body.role, expiresAt: body.expiresAt === undefined ? null : new Date(body.expiresAt) });
    return { ...presentApiKey(key), secret };
  }

  @Get()
  @ApiOperation({ summary: 'List API keys (no secrets, no hashes), newest first, revoked ones included' })
  @ApiOkResponse({ type: ApiKeySchema, isArray: true })
  async list(): Promise<{ items: ApiKeyDto[] }> {
    return { items: (await this.keys.list()).map(presentApiKey) };
  }

  @Delete(':id')
  @HttpCode(200)
  @ApiOperation({ summary: 'Revoke an API key (idempotent; its editor tokens stop working too); 409 for the last usable admin key' })
  @ApiErrors({ 409: 'this is the last usable admin key (code LAST_ADMIN_KEY): create another admin key first' })
  @ApiOkResponse({ type: ApiKeySchema })
  async revoke(@Param('id') id: string): Promise<ApiKeyDto> {
    return presentApiKey(await this.keys.revoke(id));
  }
}
