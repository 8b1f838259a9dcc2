import { IsJsonata, Static, isExpression } from '@anchorflow/plugin-sdk';
import { Type } from '@anchorflow/plugin-sdk';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsString, Matches, MaxLength, NotEquals, ValidateNested } from '@anchorflow/plugin-sdk';
import { JSONSchema } from '@anchorflow/plugin-sdk';
import { Check, Defaulted } from '../../shared/validators.js';

const PORT_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PORT_MAX = 64;
const PORT_MESSAGE = 'must be an identifier (letters, digits, _; not starting with a digit)';
// `error` carries the failure when the node runs with continueOnFail
const RESERVED_PORT = 'error';
export const DEFAULT_SWITCH_PORT = 'default';

const portSchema = { type: 'string' as const, pattern: PORT_RE.source, maxLength: PORT_MAX, not: { enum: [RESERVED_PORT] } };

export class SwitchCase {
  @JSONSchema({ description: 'Output port this case emits on.' })
  @IsString()
  @MaxLength(PORT_MAX)
  @Matches(PORT_RE, { message: `port ${PORT_MESSAGE}` })
  @NotEquals(RESERVED_PORT, { message: `port must not be "${RESERVED_PORT}" (reserved for continueOnFail)` })
  @Static()
  port!: string;

  @JSONSchema({ description: 'JSONata condition evaluated against the input.' })
  @IsJsonata()
  condition!: string;
}

/**
 * Edges are checked against the ports when the workflow is saved, so ports must be known then
 * (`@Static` refuses expressions); this check sits on the whole list, where it sees duplicates and
 * the default port.
 */
function portListProblem(cases: unknown, params: Record<string, unknown>): string | undefined {
  if (!Array.isArray(cases)) return undefined; // IsArray reports it
  const seen = new Map<string, number>();
  for (const [i, c] of cases.entries()) {
    const port = (c as { port?: unknown } | null)?.port;
    if (typeof port !== 'string' || isExpression(port)) continue;
    const first = seen.get(port);
    if (first !== undefined) return `[${i}].port "${port}" is already used by cases[${first}]`;
    seen.set(port, i);
  }
  const fallback = params.default;
  const fallbackPort = typeof fallback === 'string' ? fallback : DEFAULT_SWITCH_PORT;
  const clash = seen.get(fallbackPort);
  if (clash !== undefined) return `[${clash}].port "${fallbackPort}" is also the default port; name one of them differently`;
  return undefined;
}

export class SwitchParams {
  // the function form replaces the generated schema, which would point at a nonexistent `Array` definition
  @JSONSchema(() => ({
    description: 'Checked in order; the first case whose condition is truthy receives the input.',
    type: 'array',
    minItems: 1,
    maxItems: 100,
    items: {
      type: 'object',
      properties: { port: portSchema, condition: { type: 'string', minLength: 1 } },
      required: ['port', 'condition'],
      additionalProperties: false,
    },
  }))
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @ValidateNested({ each: true })
  @Type(() => SwitchCase)
  @Check('uniqueSwitchPorts', portListProblem)
  cases!: SwitchCase[];

  @JSONSchema({ ...portSchema, default: DEFAULT_SWITCH_PORT, description: 'Port that receives the input when no case matches.' })
  @Defaulted()
  @IsString()
  @MaxLength(PORT_MAX)
  @Matches(PORT_RE, { message: `default ${PORT_MESSAGE}` })
  @NotEquals(RESERVED_PORT, { message: `default must not be "${RESERVED_PORT}" (reserved for continueOnFail)` })
  @Static()
  default: string = DEFAULT_SWITCH_PORT;
}
