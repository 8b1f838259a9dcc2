import { Allow, CredentialRef, IsOptional, IsString, JSONSchema, MaxLength, MinLength } from '@anchorflow/plugin-sdk';
import { Check, IsAddressList, IsTemplate } from '../../shared/validators.js';

export interface EmailAttachment {
  /** file name shown to the recipient */
  name: string;
  /** a string (text, or base64 with `encoding: "base64"`); anything else is sent as JSON */
  content: unknown;
  contentType?: string;
  encoding?: 'utf8' | 'base64';
}

const MAX_ATTACHMENTS = 20;

function attachmentProblem(value: unknown): string | undefined {
  if (!Array.isArray(value)) return 'must be a list of {name, content}';
  if (value.length > MAX_ATTACHMENTS) return `must hold at most ${MAX_ATTACHMENTS} attachments`;
  for (const [i, a] of value.entries()) {
    if (typeof a !== 'object' || a === null || Array.isArray(a)) return `[${i}] must be an object {name, content}`;
    const { name, content, contentType, encoding, ...rest } = a as Record<string, unknown>;
    const unknown = Object.keys(rest);
    if (unknown.length) return `[${i}] has unknown key ${JSON.stringify(unknown[0])} (keys: name, content, contentType, encoding)`;
    if (typeof name !== 'string' || name.trim() === '' || name.length > 255 || /[\r\n/\\]/.test(name)) return `[${i}].name must be a file name (1-255 characters, no slashes or line breaks)`;
    if (content === undefined) return `[${i}].content is required`;
    if (contentType !== undefined && (typeof contentType !== 'string' || !/^[\w.+-]+\/[\w.+-]+$/.test(contentType))) return `[${i}].contentType must look like type/subtype`;
    if (encoding !== undefined && encoding !== 'utf8' && encoding !== 'base64') return `[${i}].encoding must be utf8 or base64`;
    if (encoding === 'base64' && typeof content !== 'string') return `[${i}].content must be a base64 string with encoding base64`;
  }
  return undefined;
}

export class EmailParams {
  @CredentialRef('smtp')
  credential!: string;

  @JSONSchema({ description: 'Recipient address(es): a string (comma-separated) or a list; `Name <a@b.c>` allowed.' })
  @IsAddressList()
  to!: string | string[];

  @JSONSchema({ description: 'Carbon-copy address(es).' })
  @IsOptional()
  @IsAddressList()
  cc?: string | string[];

  @JSONSchema({ description: 'Blind carbon-copy address(es).' })
  @IsOptional()
  @IsAddressList()
  bcc?: string | string[];

  @JSONSchema({ description: 'Subject: a Mustache template rendered from the node input (not HTML-escaped).' })
  @IsString()
  @MinLength(1)
  @MaxLength(998)
  @IsTemplate()
  subject!: string;

  @JSONSchema({ description: 'Plain-text body: a Mustache template rendered from the node input (`{{a.b}}`, no escaping).' })
  @IsOptional()
  @IsTemplate()
  text?: string;

  @JSONSchema({ description: 'HTML body: a Mustache template rendered from the node input; `{{x}}` is HTML-escaped, `{{{x}}}` is not.' })
  @IsOptional()
  @IsTemplate()
  html?: string;

  @JSONSchema(() => ({
    type: 'array',
    maxItems: MAX_ATTACHMENTS,
    items: { type: 'object', required: ['name', 'content'], properties: { name: { type: 'string' }, content: {}, contentType: { type: 'string' }, encoding: { enum: ['utf8', 'base64'] } }, additionalProperties: false },
    description: 'Attachments: {name, content} with content usually an expression (`"=$.report"`).',
  }))
  @IsOptional()
  @Allow()
  @Check('isAttachmentList', attachmentProblem)
  attachments?: EmailAttachment[];
}
