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
    const { status, body, unexpected } = toHttpError(exception);
    if (unexpected) {
      this.logger.error({ err: exception, reqId: (req as { id?: unknown }).id, method: req.method, url: req.originalUrl }, 'request failed');
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(status).json(this.redact(body));
  }
}
