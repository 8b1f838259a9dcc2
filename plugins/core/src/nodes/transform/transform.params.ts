import { IsJsonata } from '@anchorflow/plugin-sdk';
import { JSONSchema } from '@anchorflow/plugin-sdk';

export class TransformParams {
  @JSONSchema({ description: 'JSONata expression evaluated against the input; its result is the output.', minLength: 1 })
  @IsJsonata()
  expression!: string;
}
