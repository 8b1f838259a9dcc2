import { Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { TokenService } from '@anchorflow/security';
import type { AnchorflowConfig } from '../config/config.schema.js';
import { APP_CONFIG } from '../config/config.token.js';
import { RateLimit } from '../common/rate-limit.js';
import { RequireApiKey } from './access.decorators.js';
import { TokenSchema } from './keys.dto.js';
import { CurrentPrincipal, type AuthPrincipal } from './principal.js';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    @Inject(TokenService) private readonly tokens: TokenService,
    @Inject(APP_CONFIG) private readonly config: AnchorflowConfig,
  ) {}

  @Post('token')
  @HttpCode(200)
  @RequireApiKey()
  @RateLimit('auth')
  @ApiOperation({ summary: 'Exchange an API key (Authorization: Bearer <key> or X-Api-Key) for a short-lived editor token with the key\'s role' })
  @ApiOkResponse({ type: TokenSchema })
  async token(@CurrentPrincipal() principal: AuthPrincipal): Promise<{ token: string; expiresAt: string; role: string }> {
    const issued = await this.tokens.issue({ keyId: principal.keyId, role: principal.role, ttlSeconds: this.config.security.tokenTtlSeconds });
    return { token: issued.token, expiresAt: issued.expiresAt.toISOString(), role: issued.claims.role };
  }
}
