import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { GracefulShutdown } from './graceful-shutdown.service.js';

/** The SIGTERM drain (see GracefulShutdown). */
@Module({
  imports: [AuditModule],
  providers: [GracefulShutdown],
})
export class ShutdownModule {}
