import { type DynamicModule, Module, RequestMethod } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { LoggerModule } from 'nestjs-pino';
import type { Logger } from 'pino';
import { ApprovalsModule } from './approvals/approvals.module.js';
import { AuditModule } from './audit/audit.module.js';
import { ApiExceptionFilter } from './common/api-exception.filter.js';
import { UnhandledExceptionsLogger } from './common/unhandled-exceptions.logger.js';
import { createValidationPipe } from './common/validation.js';
import { EditorModule } from './editor/editor.module.js';
import { EngineModule, type EngineModuleOptions } from './engine/engine.module.js';
import { ExecutionsModule } from './executions/executions.module.js';
import { HealthModule } from './health/health.module.js';
import { HooksModule } from './hooks/hooks.module.js';
import { httpLoggingOptions } from './logging/logger.js';
import { ROOT_LOGGER } from './logging/logging.tokens.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { NodeTypesModule } from './node-types/node-types.module.js';
import { PluginsModule } from './plugins/plugins.module.js';
import { ObserversModule } from './observers/observers.module.js';
import { ClusterModule } from './triggers/cluster.module.js';
import { ProofsModule } from './proofs/proofs.module.js';
import { ReceiptsModule } from './receipts/receipts.module.js';
import { RetentionModule } from './retention/retention.module.js';
import { SecurityModule } from './security/security.module.js';
import type { SecurityOptions } from './security/security.options.js';
import type { SecretRegistry } from './core/secret-registry.js';
import { SECRET_REGISTRY } from './security/security.tokens.js';
import { ShutdownModule } from './shutdown/shutdown.module.js';
import { TriggersModule } from './triggers/triggers.module.js';
import { WorkflowsModule } from './workflows/workflows.module.js';
import { ExecutionLog } from './logging/execution-log.js';

export type AppModuleOptions = EngineModuleOptions & {
  /** secrets' source and the shared SecretRegistry (apps/daemon/src/security); default: process.env, a new registry */
  security?: SecurityOptions;
};

@Module({})
export class AppModule {
  static forRoot(options: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CqrsModule.forRoot(),
        LoggerModule.forRoot({
          pinoHttp: httpLoggingOptions(options.logger, options.config.log),
          // with request logging off, webhook calls skip pino-http (a child logger per request was 5 % of a
          // webhook's CPU); their log lines still carry reqId (requestIdMiddleware + the root logger's mixin)
          ...(options.config.log.requests ? {} : { exclude: [{ path: 'hooks/*path', method: RequestMethod.ALL }] }),
        }),
        EngineModule.forRoot(options),
        SecurityModule.forRoot(options.security),
        TriggersModule,
        HealthModule,
        NodeTypesModule,
        PluginsModule,
        ObserversModule,
        ClusterModule,
        WorkflowsModule,
        ExecutionsModule,
        ApprovalsModule,
        EditorModule,
        ProofsModule,
        ReceiptsModule,
        HooksModule,
        AuditModule,
        MetricsModule,
        RetentionModule,
        ShutdownModule,
      ],
      providers: [
        {
          provide: APP_FILTER,
          inject: [ROOT_LOGGER, SECRET_REGISTRY],
          // error bodies go through the log redactor: no credential value or key shape is ever echoed back
          useFactory: (logger: Logger, secrets: SecretRegistry) => new ApiExceptionFilter(logger, (body) => secrets.logs.redact(body)),
        },
        { provide: APP_PIPE, useFactory: createValidationPipe },
        UnhandledExceptionsLogger,
        ExecutionLog,
      ],
    };
  }
}
