import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

/** What every log line written while serving a request carries (see createRootLogger's mixin). */
export interface RequestContext {
  /** server-generated (never taken from the client), answered as X-Request-Id */
  reqId: string;
}

export const requestContext = new AsyncLocalStorage<RequestContext>();

/** a client's own X-Request-Id, kept beside ours when it is printable and short */
const CLIENT_ID = /^[\x21-\x7e]{1,128}$/;

/**
 * First middleware of the app: gives the request its id, answers it as X-Request-Id and runs the rest of
 * the request inside `requestContext`, so every log line about it — the HTTP line, the handler's, the
 * engine's for an execution it starts — carries `reqId`. A client's X-Request-Id is not trusted as ours
 * (it could collide or forge another request's lines); it is logged as `clientRequestId`.
 */
export function requestIdMiddleware(): (req: Request, res: Response, next: NextFunction) => void {
  return (req, res, next) => {
    const reqId = randomUUID();
    (req as Request & { id?: string }).id = reqId;
    const given = req.headers['x-request-id'];
    if (typeof given === 'string' && CLIENT_ID.test(given)) (req as Request & { clientRequestId?: string }).clientRequestId = given;
    res.setHeader('X-Request-Id', reqId);
    requestContext.run({ reqId }, next);
  };
}
