import { Module, type Provider } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { DATABASE } from '../core/database/database.tokens.js';
import { AuditController } from './audit.controller.js';
import { AuditHttpInterceptor } from './audit-http.interceptor.js';
import { AUDIT_LOG_STORE, type AuditLogStore } from './audit-log.port.js';
import { AuditService } from './audit.service.js';
import { MemoryAuditLog } from './memory-audit-log.js';
import { PgAuditLog } from '@anchorflow/persistence';
import { GetAuditHeadHandler } from './queries/get-audit-head/get-audit-head.handler.js';
import { ListAuditEntriesHandler } from './queries/list-audit-entries/list-audit-entries.handler.js';

/** PostgreSQL when the daemon has a database pool; memory for the in-memory app (specs). */
export const auditLogStoreProvider: Provider = {
  provide: AUDIT_LOG_STORE,
  inject: [DATABASE],
  useFactory: (db: { pool?: unknown }): AuditLogStore => (db && typeof db === 'object' && db.pool ? new PgAuditLog(db as ConstructorParameters<typeof PgAuditLog>[0]) : new MemoryAuditLog()),
};

/** The hash-chained audit log: writer, API-call interceptor, GET /api/v1/audit, the AuditHead query. */
@Module({
  controllers: [AuditController],
  providers: [
    auditLogStoreProvider,
    AuditService,
    { provide: APP_INTERCEPTOR, useClass: AuditHttpInterceptor },
    ListAuditEntriesHandler,
    GetAuditHeadHandler,
  ],
  exports: [AuditService, AUDIT_LOG_STORE],
})
export class AuditModule {}
