import { describe, expect, it } from '@jest/globals';
import { defineNode } from '@anchorflow/plugin-sdk';
import { MemoryPluginState } from '@anchorflow/plugin-sdk/testing';
import { NodeCatalog } from '../catalog.js';
import type { NodeJobEnvironment } from '../ports/node-transport.port.js';
import { InProcessTransport } from './in-process.transport.js';

const big = defineNode<{ items: number }>({
  type: 'demo.big', version: 1, title: 'Big', category: 'action', inputs: ['main'], outputs: ['main'],
  execute: (ctx) => ({ main: Array.from({ length: ctx.params.items }, (_, i) => ({ i, pad: 'x'.repeat(100) })) }),
});
const catalog = new NodeCatalog();
catalog.register(big, 'demo');
const env: NodeJobEnvironment = {
  signal: new AbortController().signal,
  logger: { debug() {}, info() {}, warn() {}, error() {} },
  credentials: { get: async () => ({}) as never },
  state: () => new MemoryPluginState(),
  evaluate: async () => undefined,
  progress: () => undefined,
} as unknown as NodeJobEnvironment;
const job = (items: number) => ({ executionId: 'e', workflowId: 'w', nodeId: 'n', nodeType: 'demo.big', attempt: 1, idempotencyKey: 'e:n', params: { items }, input: {} });

describe('InProcessTransport output cap (issue 17)', () => {
  it('fails a node whose serialized output exceeds the cap, naming sizes', async () => {
    const t = new InProcessTransport(catalog, { maxOutputBytes: 100_000 });
    expect(await t.run(job(10), env)).toMatchObject({ kind: 'output' });
    await expect(t.run(job(5000), env)).rejects.toMatchObject({ code: 'OUTPUT_TOO_LARGE', retryable: false, details: { limit: 100_000, bytes: expect.any(Number) } });
  });
});
