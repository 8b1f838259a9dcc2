import { IsJsonata } from '@anchorflow/plugin-sdk';
import { JSONSchema } from '@anchorflow/plugin-sdk';

export class IfParams {
  @JSONSchema({ description: 'JSONata expression evaluated against the input; truthy as in $boolean() picks port `true`.', minLength: 1 })
  @IsJsonata()
  condition!: string;
}
