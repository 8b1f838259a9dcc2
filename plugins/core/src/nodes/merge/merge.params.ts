import { IsIn } from '@anchorflow/plugin-sdk';
import { JSONSchema } from '@anchorflow/plugin-sdk';
import { Defaulted } from '../../shared/validators.js';

export class MergeParams {
  @JSONSchema({ default: 'object', description: '`object`: {sourceNodeId: payload}; `array`: the payloads in edge order.' })
  @Defaulted()
  @IsIn(['object', 'array'])
  mode: 'object' | 'array' = 'object';
}
