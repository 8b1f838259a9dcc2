import { definePlugin } from '@anchorflow/plugin-sdk';
import { ExampleConfig } from './config.js';
import { greetNode } from './nodes/greet/greet.node.js';
import { nextTickNode } from './nodes/next-tick/next-tick.node.js';
import { tickerService } from './services/ticker/ticker.service.js';

export { ExampleConfig, greetNode, nextTickNode, tickerService };
export { GREETINGS, GreetParams } from './nodes/greet/greet.params.js';
export { tickToken, type Tick } from './services/ticker/pending-ticks.js';

/** The default export is what the loader looks for: package.json `anchorflow.entry` points at this module. */
export default definePlugin({
  name: '@anchorflow/plugin-example',
  version: '0.1.0',
  nodes: [greetNode, nextTickNode],
  services: [tickerService],
  config: ExampleConfig,
});
