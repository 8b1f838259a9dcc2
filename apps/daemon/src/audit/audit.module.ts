import { Module, type Provider } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import type { Logger } from 'pino';
import type { AnchorflowConfig } from '../config/config.schema.js';
import { APP_CONFIG } from '../config/config.token.js';
import { DATABASE } from '../core/database/database.tokens.js';
import { ROOT_LOGGER } from '../logging/logging.tokens.js';
import { loadAuditKey, SealingAuditLogStore } from './sealed-head.js';
import { AuditController } from './audit.controller.js';
import { AuditHttpInterceptor } from './audit-http.interceptor.js';
import { AUDIT_LOG_STORE, type AuditLogStore } from './audit-log.port.js';
import { AuditService } from './audit.service.js';
import { MemoryAuditLog } from './memory-audit-log.js';
import { PgAuditLog } from '@anchorflow/persistence';
import { GetAuditHeadHandler } from './queries/get-audit-head/get-audit-head.handler.js';
import { ListAuditEntriesHandler } from './queries/list-audit-entries/list-audit-entries.handler.js';

/**
 * PostgreSQL when the daemon has a database pool, its head sealed into the data directory with the audit
 * key (sealed-head.ts); memory for the in-memory app (specs).
 */
export const auditLogStoreProvider: Provider = {
  provide: AUDIT_LOG_STORE,
  inject: [DATABASE, APP_CONFIG, ROOT_LOGGER],
  useFactory: (db: { pool?: unknown }, config: AnchorflowConfig, logger: Logger): AuditLogStore => {
    if (!(db && typeof db === 'object' && db.pool)) return new MemoryAuditLog();
    const pg = new PgAuditLog(db as ConstructorParameters<typeof PgAuditLog>[0]);
    const key = loadAuditKey(process.env, config.dataDir, { create: true })!;
    return new SealingAuditLogStore(pg, key, config.dataDir, (err) => logger.error({ event: 'audit.seal-failed', err: String(err) }, 'could not write the sealed audit head to the data directory'));
  },
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
