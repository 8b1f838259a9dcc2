import { Allow, IsBoolean, IsInt, IsOptional, IsString, Matches, Min } from '@anchorflow/plugin-sdk';
import { JSONSchema } from '@anchorflow/plugin-sdk';
import { Defaulted } from '../../shared/validators.js';

export class SubworkflowParams {
  @JSONSchema({ description: 'The id of the workflow to run.' })
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,128}$/, { message: 'workflowId must be the id of a workflow' })
  workflowId!: string;

  @JSONSchema({ description: 'A fixed version to run (default: the latest when the node runs).' })
  @IsOptional()
  @IsInt()
  @Min(1)
  version?: number;

  @JSONSchema({ default: true, description: 'true: wait for the child and output its output (fail with its error); false: start it and go on with {executionId}.' })
  @Defaulted()
  @IsBoolean()
  wait: boolean = true;

  @JSONSchema({ description: "The child's input (default: this node's input)." })
  @IsOptional()
  @Allow()
  input?: unknown;
}
