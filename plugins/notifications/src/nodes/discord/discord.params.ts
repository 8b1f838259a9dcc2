import { Allow, CredentialRef, IsOptional, IsString, JSONSchema, MaxLength, MinLength } from '@anchorflow/plugin-sdk';
import { IsObjectList, IsTemplate } from '../../shared/validators.js';

export class DiscordParams {
  @CredentialRef('discord-webhook')
  credential!: string;

  @JSONSchema({ description: 'Message content (Discord markdown, at most 2000 characters once rendered): a Mustache template rendered from the input.' })
  @IsString()
  @MinLength(1)
  @MaxLength(2000)
  @IsTemplate()
  content!: string;

  @JSONSchema(() => ({ type: 'array', maxItems: 10, items: { type: 'object' }, description: 'Discord embeds, passed through as given.' }))
  @IsOptional()
  @Allow()
  @IsObjectList(10)
  embeds?: Array<Record<string, unknown>>;
}
