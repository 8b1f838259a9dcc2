import { Allow, CredentialRef, IsOptional, IsString, JSONSchema, MaxLength, MinLength } from '@anchorflow/plugin-sdk';
import { IsObjectList, IsTemplate } from '../../shared/validators.js';

export class SlackParams {
  @CredentialRef('slack-webhook')
  credential!: string;

  @JSONSchema({ description: 'Message text (mrkdwn): a Mustache template rendered from the input; `{{x}}` escapes & < > as Slack requires. Shown in notifications when blocks are given.' })
  @IsString()
  @MinLength(1)
  @MaxLength(40_000)
  @IsTemplate()
  text!: string;

  @JSONSchema(() => ({ type: 'array', maxItems: 50, items: { type: 'object' }, description: 'Block Kit blocks, passed through as given (usually an expression).' }))
  @IsOptional()
  @Allow()
  @IsObjectList(50)
  blocks?: Array<Record<string, unknown>>;
}
