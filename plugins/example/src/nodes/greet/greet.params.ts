import { IsIn, IsOptional, IsString, IsUrl, JSONSchema, MaxLength, MinLength, ValidateIf } from '@anchorflow/plugin-sdk';

export const GREETINGS = ['Hello', 'Hi', 'Welcome'] as const;

/**
 * The params DTO: class-validator decorators validate the params when a workflow is saved (and again
 * after `=expressions` are evaluated at run time); the same class gives the JSON schema the editor and
 * `GET /api/v1/node-types` show. `@JSONSchema` adds what the decorators cannot say (defaults, text).
 */
export class GreetParams {
  @JSONSchema({ description: 'Who to greet. Usually an expression such as `=$.customer.name`.' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name!: string;

  @JSONSchema({ default: 'Hello' })
  // validated when given, defaulted when omitted (so the schema does not list it as required)
  @ValidateIf((_o: unknown, v: unknown) => v !== undefined)
  @IsIn(GREETINGS)
  greeting: (typeof GREETINGS)[number] = 'Hello';

  @JSONSchema({ description: 'Optional receiver told about each greeting (POST, JSON, with an Idempotency-Key header).' })
  @IsOptional()
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  notifyUrl?: string;
}
