import type { IncomingMessage } from 'node:http';

/** where the body parsers leave a /hooks request's bytes as received (signature checks need them exactly) */
export const RAW_BODY = Symbol('anchorflow.rawBody');

/** only webhook requests keep their bytes: everything else is parsed and the buffer dropped */
export function isHookRequest(req: IncomingMessage): boolean {
  return req.url !== undefined && (req.url === '/hooks' || req.url.startsWith('/hooks/') || req.url.startsWith('/hooks?'));
}

/** a body-parser `verify` that keeps a webhook request's bytes, then runs `next` (if any) */
export function keepHookRawBody(next?: (req: IncomingMessage, res: unknown, buf: Buffer, encoding: string) => void) {
  return (req: IncomingMessage, res: unknown, buf: Buffer, encoding: string): void => {
    if (isHookRequest(req)) (req as IncomingMessage & { [RAW_BODY]?: Buffer })[RAW_BODY] = buf;
    next?.(req, res, buf, encoding);
  };
}
