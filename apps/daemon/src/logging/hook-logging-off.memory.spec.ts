/**
 * Webhook calls and the request log: with log.requests on they get their HTTP line like any request; with
 * it off they skip pino-http altogether (its per-request child logger was 5 % of a webhook's CPU), and the
 * lines about the execution they start still carry the request's id.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import type { MemoryApp } from '../testing/memory-app.js';
import { callHook } from '../testing/hook-call.js';

let app: MemoryApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('webhook calls in the log', () => {
  it('with request logging off: no HTTP line, and the execution’s lines still carry the request id', async () => {
    const { app: a, lines, reqId, executionId } = await callHook(false);
    app = a;
    expect(reqId).toMatch(/^[0-9a-f-]{36}$/);
    expect(lines.some((l) => (l.req as { url?: string } | undefined)?.url === '/hooks/hook-log')).toBe(false);
    expect(lines.find((l) => l.msg === 'chatty did its thing')).toMatchObject({ executionId, nodeId: 'talk', reqId });
  });
});
