import { IsIn, IsString, Length, Matches, Static } from '@anchorflow/plugin-sdk';
import { JSONSchema } from '@anchorflow/plugin-sdk';
import { Defaulted } from '../../shared/validators.js';

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

  @JSONSchema({ default: 'immediately', description: '`immediately`: answer 202 with the execution id; `lastNode`: answer with the execution output.' })
  @Defaulted()
  @IsIn(['immediately', 'lastNode'])
  @Static()
  respond: 'immediately' | 'lastNode' = 'immediately';

  @JSONSchema({ default: 'body', description: '`body`: the node emits the parsed body; `request`: {body, headers, query, method, path}.' })
  @Defaulted()
  @IsIn(['body', 'request'])
  @Static()
  include: 'body' | 'request' = 'body';
}
