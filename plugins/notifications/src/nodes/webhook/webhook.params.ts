import { Allow, CredentialRef, IsInt, IsOptional, JSONSchema, Max, Min } from '@anchorflow/plugin-sdk';
import { IsHeaderMap, IsHttpUrl } from '../../shared/validators.js';

export const MAX_WEBHOOK_TIMEOUT_MS = 120_000;

export class WebhookParams {
  @JSONSchema({ type: 'string', format: 'uri', description: 'Receiver URL (http or https).' })
  @IsHttpUrl()
  url!: string;

  // with it, each request carries X-Anchorflow-Signature (a second @JSONSchema here would replace the credential marker)
  @IsOptional()
  @CredentialRef('hmac-secret')
  credential?: string;

  @JSONSchema(() => ({ description: 'JSON body to POST; the node input when absent.' }))
  @IsOptional()
  @Allow()
  body?: unknown;

  @JSONSchema(() => ({ type: 'object', additionalProperties: { type: 'string' }, description: 'Extra request headers; Content-Type, Idempotency-Key and X-Anchorflow-Signature are always set by the node.' }))
  @IsOptional()
  @IsHeaderMap()
  headers?: Record<string, string>;

  @JSONSchema({ default: 10_000, description: 'Per-attempt time limit in ms.' })
  @IsOptional()
  @IsInt()
  @Min(100)
  @Max(MAX_WEBHOOK_TIMEOUT_MS)
  timeoutMs?: number;
}
