import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { toHttpError } from './api-error.js';

/** The one place where errors become HTTP responses: `{ error: { code, message, details } }`. */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  constructor(
    private readonly logger: Logger,
    /** applied to every error body before it is sent (the daemon passes the secret redactor) */
    private readonly redact: <T>(body: T) => T = (body) => body,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const http = host.switchToHttp();
    const res = http.getResponse<Response>();
    const req = http.getRequest<Request>();
    const { status, body } = errorAnswer(exception, this.logger, this.redact, { id: (req as { id?: unknown }).id, method: req.method, url: req.originalUrl });
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(status).json(body);
  }
}

/**
 * What an error thrown while serving a request answers: its status and uniform body, redacted; an
 * unexpected one is logged with the request. Shared by this filter and the webhook fast path.
 */
export function errorAnswer(
  exception: unknown,
  logger: Pick<Logger, 'error'>,
  redact: <T>(body: T) => T,
  req: { id?: unknown; method?: string; url?: string },
): { status: number; body: unknown } {
  const { status, body, unexpected } = toHttpError(exception);
  if (unexpected) logger.error({ err: exception, reqId: req.id, method: req.method, url: req.url }, 'request failed');
  return { status, body: redact(body) };
}
