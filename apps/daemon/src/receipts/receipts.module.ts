import { Module } from '@nestjs/common';
import { ReceiptsController } from './receipts.controller.js';
import { ReceiptsService } from './receipts.service.js';

/** GET /api/v1/executions/:id/receipt, the hand-off of finished histories and audit heads to the anchor batcher. */
@Module({ controllers: [ReceiptsController], providers: [ReceiptsService], exports: [ReceiptsService] })
export class ReceiptsModule {}
