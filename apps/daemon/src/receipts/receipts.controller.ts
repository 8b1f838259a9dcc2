import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { RequirePermission } from '../auth/access.decorators.js';
import { ParseIdPipe } from '../common/validation.js';
import { ReceiptPendingSchema, ReceiptSchema } from '../openapi/response-schemas.js';
import { ReceiptsService } from './receipts.service.js';

@ApiTags('executions')
@Controller()
export class ReceiptsController {
  constructor(private readonly receipts: ReceiptsService) {}

  @Get('executions/:id/receipt')
  @RequirePermission('executions:read')
  @ApiOperation({ summary: 'The receipt of a finished execution: its history head anchored on chain (404 before it ends, 202 + Retry-After while anchoring)' })
  @ApiOkResponse({ type: ReceiptSchema })
  @ApiAcceptedResponse({ type: ReceiptPendingSchema, description: 'the history head is in the batch being anchored: ask again after Retry-After seconds' })
  async receipt(@Param('id', new ParseIdPipe('execution')) id: string, @Res() res: Response): Promise<void> {
    const answer = await this.receipts.receipt(id);
    if (answer.kind === 'anchoring') {
      res.status(202).set('retry-after', String(answer.retryAfterSeconds)).json({ status: 'anchoring', retryAfterSeconds: answer.retryAfterSeconds });
      return;
    }
    res
      .status(200)
      .set('content-type', 'application/json; charset=utf-8')
      .set('content-disposition', `attachment; filename="receipt-${id}.json"`)
      .send(JSON.stringify(answer.receipt, null, 2) + '\n');
  }
}
