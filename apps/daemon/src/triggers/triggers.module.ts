import { Module } from '@nestjs/common';
import { TriggerRegistry } from './trigger-registry.service.js';

@Module({
  providers: [TriggerRegistry],
  exports: [TriggerRegistry],
})
export class TriggersModule {}
