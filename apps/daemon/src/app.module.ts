import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { LoggerModule } from 'nestjs-pino';
import type { Logger } from 'pino';
import { ApiExceptionFilter } from './common/api-exception.filter.js';
import { UnhandledExceptionsLogger } from './common/unhandled-exceptions.logger.js';
import { createValidationPipe } from './common/validation.js';
import { EngineModule, type EngineModuleOptions } from './engine/engine.module.js';
import { ExecutionsModule } from './executions/executions.module.js';
import { HealthModule } from './health/health.module.js';
import { HooksModule } from './hooks/hooks.module.js';
import { httpLoggingOptions } from './logging/logger.js';
import { ROOT_LOGGER } from './logging/logging.tokens.js';
import { NodeTypesModule } from './node-types/node-types.module.js';
import { TriggersModule } from './triggers/triggers.module.js';
import { WorkflowsModule } from './workflows/workflows.module.js';

export type AppModuleOptions = EngineModuleOptions;

@Module({})
export class AppModule {
  static forRoot(options: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CqrsModule.forRoot(),
        LoggerModule.forRoot({ pinoHttp: httpLoggingOptions(options.logger, options.config.log) }),
        EngineModule.forRoot(options),
        TriggersModule,
        HealthModule,
        NodeTypesModule,
        WorkflowsModule,
        ExecutionsModule,
        HooksModule,
      ],
      providers: [
        { provide: APP_FILTER, inject: [ROOT_LOGGER], useFactory: (logger: Logger) => new ApiExceptionFilter(logger) },
        { provide: APP_PIPE, useFactory: createValidationPipe },
        UnhandledExceptionsLogger,
      ],
    };
  }
}
