import { describe, expect, it } from '@jest/globals';
import { defineNode } from '@anchorflow/plugin-sdk';
import { MemoryPluginState } from '@anchorflow/plugin-sdk/testing';
import { NodeCatalog } from '../catalog.js';
import type { NodeJobEnvironment } from '../ports/node-transport.port.js';
import { InProcessTransport } from './in-process.transport.js';
import { jsonBytes, jsonBytesBound } from './json-size.js';

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

  it('measures exactly when the upper bound passes the cap: the exact size decides, and is what it reports', async () => {
    // 700 items: bound ~6 × 100 bytes each > 100,000, JSON ~81,000 < 100,000
    const t = new InProcessTransport(catalog, { maxOutputBytes: 100_000 });
    const fits = await t.run(job(700), env);
    expect(fits).toMatchObject({ kind: 'output', outputBytes: jsonBytes((fits as { outputs: unknown }).outputs) });
    // 900 items: JSON ~104,000
    const over = t.run(job(900), env);
    await expect(over).rejects.toMatchObject({ code: 'OUTPUT_TOO_LARGE' });
    const bytes = ((await over.catch((e: { details: { bytes: number } }) => e)) as { details: { bytes: number } }).details.bytes;
    expect(bytes).toBe(jsonBytes({ main: Array.from({ length: 900 }, (_, i) => ({ i, pad: 'x'.repeat(100) })) }));
  });
});

describe('jsonBytesBound', () => {
  it('is never below the UTF-8 size of the JSON, whatever the strings and numbers hold', () => {
    const strings = ['', 'plain', 'quote " and \\ backslash', 'controls \u0000\u0001\n\t\u001f', 'é ü 中文', 'emoji 😀', 'lone \uD800 surrogate', '\u2028\u2029'];
    const numbers = [0, -0, 1, -1.5, 1e21, -1.2345678901234567e-308, Number.MAX_VALUE, Number.MIN_VALUE, NaN, Infinity];
    const values: unknown[] = [
      ...strings, ...numbers, true, false, null, [], {}, [undefined, () => 1], { u: undefined, f: () => 1 },
      { [strings[3]!]: strings, n: numbers, deep: { a: [{ b: [strings[6], { c: null }] }] } },
      Object.assign(Object.create(null) as object, { k: 'v' }),
    ];
    for (const v of values) expect(jsonBytesBound(v)).toBeGreaterThanOrEqual(jsonBytes(v));
  });

  it('cannot tell (Infinity) for what JSON.stringify serializes its own way', () => {
    class Point { x = 1; }
    expect(jsonBytesBound(new Point())).toBe(Infinity);
    expect(jsonBytesBound({ when: new Date(0) })).toBe(Infinity);
    expect(jsonBytesBound({ big: 1n })).toBe(Infinity);
    expect(jsonBytesBound([{ toJSON: () => 'x' }])).toBe(Infinity);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(jsonBytesBound(cyclic)).toBe(Infinity);
  });
});
