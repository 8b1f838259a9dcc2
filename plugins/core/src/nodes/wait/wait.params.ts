import { IsInt, Max, Min } from '@anchorflow/plugin-sdk';
import { JSONSchema } from '@anchorflow/plugin-sdk';

export const MAX_WAIT_MS = 365 * 24 * 60 * 60 * 1000;

export class WaitParams {
  @JSONSchema({ description: 'How long to wait, in milliseconds (at most one year).' })
  @IsInt()
  @Min(0)
  @Max(MAX_WAIT_MS)
  ms!: number;
}
