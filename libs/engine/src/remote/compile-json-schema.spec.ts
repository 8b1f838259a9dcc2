import { describe, expect, it } from '@jest/globals';
import { compileJsonSchema } from './remote-node-type.js';

const announced = () => JSON.parse(JSON.stringify({ $id: 'https://example.test/greet.json', type: 'object', properties: { name: { type: 'string', minLength: 1 } }, required: ['name'] })) as object;

describe('compileJsonSchema', () => {
  it('compiles a schema announced again and again (a new object every heartbeat) once', () => {
    const first = compileJsonSchema(announced());
    const again = compileJsonSchema(announced());
    expect(first.ok && again.ok && first.validate === again.validate).toBe(true);
    if (!first.ok) return;
    expect([first.validate({ name: 'Ada' }), first.validate({ name: '' })]).toEqual([true, false]);
  });

  it('keeps the daemon heap flat under many announcements', () => {
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 5000; i++) compileJsonSchema(announced());
    // a compiled schema kept per announcement costs ~4 KB (20 MB here)
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(10_000_000);
  });

  it('reports a schema ajv refuses, and the same schema text again', () => {
    const bad = () => ({ type: 'strnig' });
    expect(compileJsonSchema(bad())).toMatchObject({ ok: false, error: expect.stringContaining('type') });
    expect(compileJsonSchema(bad())).toMatchObject({ ok: false });
  });
});
