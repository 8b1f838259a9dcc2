import { defineNode, type NodeContext } from '@anchorflow/plugin-sdk';
import { isPlainObject } from '../../shared/validators.js';
import { MergeParams } from './merge.params.js';

/**
 * `sources` (ids of the nodes whose edges into this one are live, in edge order) is not in the SDK's
 * NodeContext yet; it has been requested. It is the only way to tell "several inputs keyed by source id"
 * from "one input that happens to be an object".
 */
type MergeContext = NodeContext<MergeParams> & { readonly sources?: readonly string[] };

function isKeyedBySource(ctx: MergeContext, input: unknown): input is Record<string, unknown> {
  if (ctx.sources !== undefined) return ctx.sources.length > 1;
  // Without `sources`, an object is taken for a join of several inputs: that is what a merge node is
  // placed for. Only a single live input whose payload is an object is then misread (array mode).
  return isPlainObject(input);
}

export const mergeNode = defineNode<MergeParams>({
  type: 'core.merge',
  version: 1,
  title: 'Merge',
  description: 'Joins the payloads of several branches into one object keyed by source node or into one array.',
  category: 'flow',
  inputs: ['main'],
  outputs: ['main'],
  params: MergeParams,
  pure: true,
  execute(ctx: MergeContext, input) {
    const keyed = isKeyedBySource(ctx, input);
    if (ctx.params.mode === 'array') return { main: keyed ? Object.values(input) : [input] };
    // a single input has no source key the node could know of, so it goes on as it came
    return { main: input };
  },
});
