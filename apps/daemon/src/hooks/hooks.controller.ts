import { All, Controller, Req, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '../auth/access.decorators.js';
import { RateLimit } from '../common/rate-limit.js';
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
    const result = await this.commands.execute(
      new HandleWebhookCommand({
        path: normalizeHookPath(req.path.slice('/hooks'.length)),
        method: req.method,
        body: req.body,
        headers: req.headers,
        query: req.query as Record<string, unknown>,
      }),
    );
    if (result.executionId) res.setHeader(EXECUTION_ID_HEADER, result.executionId);
    res.status(result.status).json(result.body);
  }
}
