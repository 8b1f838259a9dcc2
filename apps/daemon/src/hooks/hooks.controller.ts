import { All, Controller, Req, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '../auth/access.decorators.js';
import { RateLimit } from '../common/rate-limit.js';
import { ApiError } from '../common/api-error.js';
import { RAW_BODY } from '../common/raw-body.js';
import { normalizeHookPath } from '../triggers/webhook-index.js';
import { HandleWebhookCommand } from './commands/handle-webhook/handle-webhook.command.js';

export const EXECUTION_ID_HEADER = 'X-Anchorflow-Execution-Id';

/** `ALL /hooks/*path` (outside /api/v1): webhook triggers of active workflows. */
@ApiExcludeController()
@Controller('hooks')
@Public('webhook triggers are called by outside systems; a trigger may require its own HMAC signature')
@RateLimit('hooks')
export class HooksController {
  constructor(private readonly commands: CommandBus) {}

  @All('*path')
  async handle(@Req() req: Request, @Res() res: Response): Promise<void> {
    const raw = (req as Request & { [RAW_BODY]?: Buffer })[RAW_BODY];
    let result;
    try {
      result = await this.commands.execute(
        new HandleWebhookCommand({
          path: normalizeHookPath(req.path.slice('/hooks'.length)),
          method: req.method,
          // a body no parser understood arrives as bytes only (rawBody): the workflow gets none
          body: Buffer.isBuffer(req.body) ? undefined : req.body,
          headers: req.headers,
          query: req.query as Record<string, unknown>,
          ...(raw ? { rawBody: raw } : {}),
        }),
      );
    } catch (err) {
      const retryAfterSec = err instanceof ApiError && err.status === 429 ? (err.details as { retryAfterSec?: number } | undefined)?.retryAfterSec : undefined;
      if (retryAfterSec !== undefined) res.setHeader('Retry-After', String(retryAfterSec));
      throw err;
    }
    if (result.executionId) res.setHeader(EXECUTION_ID_HEADER, result.executionId);
    res.status(result.status).json(result.body);
  }
}
