import { CredentialRef, IsIn, IsOptional, IsString, JSONSchema, Matches, MaxLength, MinLength } from '@anchorflow/plugin-sdk';
import { IsTemplate } from '../../shared/validators.js';

export class TelegramParams {
  @CredentialRef('telegram-bot')
  credential!: string;

  @JSONSchema({ description: 'Chat id (a number, possibly negative for groups) or @channelusername.' })
  @IsString()
  @Matches(/^(-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{3,63})$/, { message: 'chatId must be a numeric chat id or @channelusername' })
  chatId!: string;

  @JSONSchema({ description: 'Message text (at most 4096 characters once rendered): a Mustache template rendered from the input; HTML-escaped when parseMode is HTML.' })
  @IsString()
  @MinLength(1)
  @MaxLength(4096)
  @IsTemplate()
  text!: string;

  @JSONSchema({ description: 'Telegram formatting: HTML, MarkdownV2 or Markdown (legacy); plain text when absent.' })
  @IsOptional()
  @IsIn(['HTML', 'MarkdownV2', 'Markdown'])
  parseMode?: 'HTML' | 'MarkdownV2' | 'Markdown';
}
