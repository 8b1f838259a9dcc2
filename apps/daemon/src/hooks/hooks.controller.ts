import { All, Controller, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '../auth/access.decorators.js';
import { RAW_BODY } from '../common/raw-body.js';
import { EXECUTION_ID_HEADER, HooksEndpoint } from './hooks-endpoint.js';

export { EXECUTION_ID_HEADER } from './hooks-endpoint.js';

/**
 * `ALL /hooks/*path` (outside /api/v1) through Express: the webhook calls the fast path leaves to Express's
 * middleware (urlencoded, text and other bodies, compressed bodies, CORS, request logging). Both end in
 * `HooksEndpoint.serve` (rate limit, execution, answer); errors go through ApiExceptionFilter.
 */
@ApiExcludeController()
@Controller('hooks')
@Public('webhook triggers are called by outside systems; a trigger may require its own HMAC signature')
export class HooksController {
  constructor(private readonly endpoint: HooksEndpoint) {}

  @All('*path')
  async handle(@Req() req: Request, @Res() res: Response): Promise<void> {
    const raw = (req as Request & { [RAW_BODY]?: Buffer })[RAW_BODY];
    // a body no parser understood arrives as bytes only (rawBody): the workflow gets none
    const body = Buffer.isBuffer(req.body) ? undefined : req.body;
    const result = await this.endpoint.serve(req, res, req.ip ?? '', req.path.slice('/hooks'.length), req.query as Record<string, unknown>, body, raw);
    if (result.executionId) res.setHeader(EXECUTION_ID_HEADER, result.executionId);
    res.status(result.status).json(result.body);
  }
}
