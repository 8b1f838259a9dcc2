// bench.set: core.set under another type name, so that a daemon loading the core plugin still sends it
// to plugin workers over NATS (a type the daemon provides itself always runs in process). Plain JS: the
// worker and the daemon import it as is.
import { IsObject, definePlugin, defineNode } from '@anchorflow/plugin-sdk';

class SetParams {}
IsObject()(SetParams.prototype, 'fields');

const isPlainObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);

const setNode = defineNode({
  type: 'bench.set', version: 1, title: 'Set fields (bench)', category: 'transform', inputs: ['main'], outputs: ['main'],
  params: SetParams, pure: true,
  execute: (ctx, input) => ({ main: isPlainObject(input) ? { ...input, ...ctx.params.fields } : { value: input, ...ctx.params.fields } }),
});

export default definePlugin({ name: 'anchorflow-bench-nats-plugin', version: '1.0.0', nodes: [setNode] });
