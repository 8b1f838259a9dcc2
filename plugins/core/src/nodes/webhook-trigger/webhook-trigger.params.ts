import { CredentialRef, IsBoolean, IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min, Static, WEBHOOK_EXPOSURES, type WebhookExposure } from '@anchorflow/plugin-sdk';
import { JSONSchema } from '@anchorflow/plugin-sdk';
import { Check, Defaulted } from '../../shared/validators.js';

export const WEBHOOK_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type WebhookMethod = (typeof WEBHOOK_METHODS)[number];

/**
 * Slash-separated segments of letters, digits and `-_.`. Empty, `.` and `..` segments are refused because
 * URL parsers normalise them away, so such a hook could never be reached under the path it was saved with.
 */
export const WEBHOOK_PATH_RE = /^(?!\.\.?(?:\/|$))(?!.*\/\.\.?(?:\/|$))[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+)*$/;

export class WebhookTriggerParams {
  @JSONSchema({ description: 'Path under /hooks/, e.g. `orders/new`.', pattern: WEBHOOK_PATH_RE.source })
  @IsString()
  @Length(1, 200)
  @Matches(WEBHOOK_PATH_RE, { message: 'path must be URL path segments of letters, digits and -_. separated by single slashes, without a leading or trailing slash' })
  @Static()
  path!: string;

  @JSONSchema({ default: 'POST' })
  @Defaulted()
  @IsIn(WEBHOOK_METHODS)
  @Static()
  method: WebhookMethod = 'POST';

  @JSONSchema({ default: 'immediately', description: '`immediately`: answer 202 with the execution id; `lastNode`: answer with the execution output (to anonymous callers only with `publicOutput: true`).' })
  @Defaulted()
  @IsIn(['immediately', 'lastNode'])
  @Check('outputExposure', (value, p) =>
    value === 'lastNode' && effectiveExposure(p) === 'public' && p.publicOutput !== true
      ? 'lastNode on a public webhook would hand the execution output to anyone: set publicOutput: true to allow it, or use exposure "signed" or "key"'
      : undefined,
  )
  @Static()
  respond: 'immediately' | 'lastNode' = 'immediately';

  @JSONSchema({ default: 'body', description: '`body`: the node emits the parsed body; `request`: {body, headers, query, method, path}.' })
  @Defaulted()
  @IsIn(['body', 'request'])
  @Static()
  include: 'body' | 'request' = 'body';

  @JSONSchema({
    enum: [...WEBHOOK_EXPOSURES],
    description:
      'Who may call: `public` anyone who can reach /hooks; `signed` only requests signed with `secret` (X-Anchorflow-Signature); `key` only callers with an API key (or editor token) allowed `executions:run`. Default: `signed` with a `secret`, else `public`.',
  })
  @IsOptional()
  @IsIn(WEBHOOK_EXPOSURES)
  @Check('exposureSecret', (value, p) => {
    if (value === 'signed' && (typeof p.secret !== 'string' || p.secret === '')) return 'signed needs a secret (an hmac-secret credential) to check signatures with';
    if (value !== undefined && value !== 'signed' && p.secret !== undefined) return `${String(value)} does not check the secret: use exposure "signed", or leave the secret out`;
    return undefined;
  })
  @Static()
  exposure?: WebhookExposure;

  // requests must carry X-Anchorflow-Signature: t=<unix s>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
  @IsOptional()
  @CredentialRef('hmac-secret')
  @Static()
  secret?: string;

  @JSONSchema({ description: 'Largest body accepted, in bytes; a larger one gets 413 and starts nothing (http.bodyLimit applies in any case).' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1024 * 1024 * 1024)
  @Static()
  maxBodyBytes?: number;

  @JSONSchema({ description: 'Most requests accepted per minute on each daemon; more get 429 and start nothing.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  @Static()
  rateLimitPerMinute?: number;

  @JSONSchema({ default: false, description: 'With `respond: "lastNode"` on a public webhook: answer anonymous callers with the execution output (off unless set).' })
  @Defaulted()
  @IsBoolean()
  @Static()
  publicOutput: boolean = false;
}

/** `exposure` as given, else `signed` with a secret, else `public` (how webhooks saved before it behave) */
export function effectiveExposure(p: { exposure?: unknown; secret?: unknown }): WebhookExposure {
  if (p.exposure === 'public' || p.exposure === 'signed' || p.exposure === 'key') return p.exposure;
  return typeof p.secret === 'string' && p.secret !== '' ? 'signed' : 'public';
}
