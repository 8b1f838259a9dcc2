import { defineNode } from '@anchorflow/plugin-sdk';
import { ManualTriggerParams } from './manual-trigger.params.js';

export const manualTriggerNode = defineNode<ManualTriggerParams>({
  type: 'core.trigger.manual',
  version: 1,
  title: 'Manual trigger',
  description: 'Starts the workflow when an execution is requested through the API or the editor, passing on its input.',
  category: 'trigger',
  inputs: [],
  outputs: ['main'],
  params: ManualTriggerParams,
  pure: true,
  // the engine feeds a start node the execution input
  execute: (_ctx, input) => ({ main: input }),
});
