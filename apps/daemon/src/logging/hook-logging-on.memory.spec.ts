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
  it('with request logging on: the call has its HTTP line', async () => {
    const { app: a, lines, reqId } = await callHook(true);
    app = a;
    // pino-http writes the line when the server side of the response finishes, which can be just after
    // the client has read the answer: wait for it (bounded) instead of reading the log once
    const httpLine = () => lines.find((l) => l.reqId === reqId && (l.req as { url?: string } | undefined)?.url === '/hooks/hook-log');
    for (let i = 0; i < 100 && !httpLine(); i++) await new Promise((r) => setTimeout(r, 20));
    expect(httpLine()).toMatchObject({ res: { statusCode: 200 } });
  });
});
