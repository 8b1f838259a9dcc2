import { Module } from '@nestjs/common';
import { TriggersModule } from '../triggers/triggers.module.js';
import { HandleWebhookHandler } from './commands/handle-webhook/handle-webhook.handler.js';
import { HooksController } from './hooks.controller.js';
import { HooksEndpoint } from './hooks-endpoint.js';

@Module({
  imports: [TriggersModule],
  controllers: [HooksController],
  providers: [HandleWebhookHandler, HooksEndpoint],
  exports: [HooksEndpoint],
})
export class HooksModule {}
