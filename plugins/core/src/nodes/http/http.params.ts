import { Allow, IsIn, IsInt, IsOptional, Max, Min } from '@anchorflow/plugin-sdk';
import { JSONSchema } from '@anchorflow/plugin-sdk';
import { Check, Defaulted, IsHeaderMap, IsHttpUrl } from '../../shared/validators.js';

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];
export const MAX_HTTP_TIMEOUT_MS = 300_000;

export class HttpParams {
  @JSONSchema({ default: 'GET' })
  @Defaulted()
  @IsIn(HTTP_METHODS)
  method: HttpMethod = 'GET';

  @JSONSchema({ type: 'string', format: 'uri', pattern: '^https?://', description: 'Absolute http or https URL.' })
  @IsHttpUrl()
  url!: string;

  // the function form replaces the generated schema, which would point at a nonexistent `Object` definition
  @JSONSchema(() => ({ type: 'object', additionalProperties: { type: 'string' }, description: 'Request headers, name → value.' }))
  @IsOptional()
  @IsHeaderMap()
  headers?: Record<string, string>;

  @JSONSchema(() => ({ description: 'Request body: a string is sent as is; anything else as JSON (content-type application/json unless set).' }))
  @IsOptional()
  @Allow()
  // fetch refuses a body on these; saying so at save time beats a failure on every run
  @Check('noBodyForMethod', (_value, params) => (params.method === 'GET' || params.method === 'HEAD' ? `cannot be sent with ${params.method}` : undefined))
  body?: unknown;

  @JSONSchema({ default: 30_000, description: 'Per-attempt time limit for the whole exchange, including the response body.' })
  @Defaulted()
  @IsInt()
  @Min(1)
  @Max(MAX_HTTP_TIMEOUT_MS)
  timeoutMs: number = 30_000;

  @JSONSchema({ default: 'auto', description: '`auto`: JSON when the response says so (or looks like it), else text; `json`: must be JSON; `text`: always text.' })
  @Defaulted()
  @IsIn(['auto', 'json', 'text'])
  responseType: 'auto' | 'json' | 'text' = 'auto';
}
