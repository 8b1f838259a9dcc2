import { definePlugin } from '@anchorflow/plugin-sdk';
import { greetNode } from './nodes/greet/greet.node.js';

export { greetNode };
export { GREETINGS, GreetParams } from './nodes/greet/greet.params.js';

/** The default export is what the loader looks for: package.json `anchorflow.entry` points at this module. */
export default definePlugin({
  name: '@anchorflow/plugin-example',
  version: '0.1.0',
  nodes: [greetNode],
});
