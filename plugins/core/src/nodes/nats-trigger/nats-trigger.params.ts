import { IsBoolean, IsOptional, IsString, JSONSchema, Length, Matches, Static } from '@anchorflow/plugin-sdk';
import { Defaulted } from '../../shared/validators.js';

/** dot-separated tokens without spaces; `*` a whole token, `>` only as the last one */
export const NATS_SUBJECT_RE = /^(?:[^\s.*>]+|\*)(?:\.(?:[^\s.*>]+|\*))*(?:\.>)?$|^>$/;
const NAME_RE = /^[A-Za-z0-9_-]+$/;

export class NatsTriggerParams {
  @JSONSchema({ description: 'NATS subject to listen on; `*` matches one token, `>` the rest (e.g. `orders.*.created`, `audit.>`).', examples: ['orders.created'] })
  @IsString()
  @Length(1, 255)
  @Matches(NATS_SUBJECT_RE, { message: 'subject must be dot-separated tokens without spaces, with * as a whole token and > only at the end' })
  @Static()
  subject!: string;

  @JSONSchema({ description: 'Queue group (without `durable`): triggers in the same group share the messages, each message starting one of them.' })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  @Matches(NAME_RE, { message: 'queueGroup must be letters, digits, - and _' })
  @Static()
  queueGroup?: string;

  @JSONSchema({ default: true, description: '`true`: a JetStream durable consumer keeps the messages that arrive while no daemon runs (delivered at least once, started once). `false`: core NATS, at most once.' })
  @Defaulted()
  @IsBoolean()
  @Static()
  durable: boolean = true;
}
