import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { DATABASE } from '../core/database/database.tokens.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { PgRetentionStore } from '@anchorflow/persistence';
import { RETENTION_STORE, type RetentionStore } from './retention.port.js';
import { RetentionService } from './retention.service.js';

/** Background pruning of finished executions (retention.*). */
@Module({
  imports: [AuditModule, MetricsModule],
  providers: [
    {
      provide: RETENTION_STORE,
      inject: [DATABASE],
      // no SQL pool (the in-memory app): nothing to prune
      useFactory: (db: { pool?: unknown }): RetentionStore | null => (db?.pool ? new PgRetentionStore(db as ConstructorParameters<typeof PgRetentionStore>[0]) : null),
    },
    RetentionService,
  ],
  exports: [RetentionService],
})
export class RetentionModule {}
