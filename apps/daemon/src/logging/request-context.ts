import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** What every log line written while serving a request carries (see createRootLogger's mixin). */
export interface RequestContext {
  /** server-generated (never taken from the client), answered as X-Request-Id */
  reqId: string;
}

export const requestContext = new AsyncLocalStorage<RequestContext>();

/**
 * First middleware of the app (and of the webhook fast path, hooks-endpoint.ts): gives the request its id, answers it as X-Request-Id and runs the rest of
 * the request inside `requestContext`, so every log line about it — the HTTP line, the handler's, the
 * engine's for an execution it starts — carries `reqId`. A client's X-Request-Id is not trusted as ours
 * (it could collide or forge another request's lines); pino-http logs it as `clientRequestId`.
 */
export function requestIdMiddleware(): (req: IncomingMessage, res: ServerResponse, next: () => void) => void {
  return (req, res, next) => {
    const reqId = randomUUID();
    (req as IncomingMessage & { id?: string }).id = reqId;
    res.setHeader('X-Request-Id', reqId);
    requestContext.run({ reqId }, next);
  };
}
