import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { UnhandledExceptionBus } from '@nestjs/cqrs';
import type { Logger } from 'pino';
import type { Subscription } from 'rxjs';
import { ROOT_LOGGER } from '../logging/logging.tokens.js';

/** @nestjs/cqrs swallows event-handler errors into its UnhandledExceptionBus: they are logged here. */
@Injectable()
export class UnhandledExceptionsLogger implements OnModuleInit, OnModuleDestroy {
  private subscription?: Subscription;

  constructor(
    private readonly bus: UnhandledExceptionBus,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    this.subscription = this.bus.subscribe(({ exception, cause }) => {
      this.logger.error({ err: exception, cause: (cause as object | undefined)?.constructor?.name }, 'event handler failed');
    });
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }
}
