import type { Server } from 'node:http';
import { type BeforeApplicationShutdown, type OnApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Engine } from '@anchorflow/engine';
import type { Logger } from 'pino';
import { AuditService } from '../audit/audit.service.js';
import type { AnchorflowConfig } from '../config/config.schema.js';
import { APP_CONFIG } from '../config/config.token.js';
import { ENGINE } from '../engine/engine.tokens.js';
import { ROOT_LOGGER } from '../logging/logging.tokens.js';

/**
 * The drain on SIGTERM/SIGINT (Nest's shutdown hooks; `app.close()` in specs), within `shutdown.timeoutMs`:
 *
 * 1. stop taking work: the HTTP listener closes (new connections are refused; requests arriving on open
 *    connections get 503 through Nest's `return503OnClosing`), the retention pruner stops (onModuleDestroy);
 * 2. `engine.stop()`: no new node starts, in-flight nodes are handed back (aborted; they run again at the
 *    next start, on this or another daemon, with the same idempotency key), the execution store is flushed;
 * 3. the audit buffer is written (it holds the events of step 2);
 * 4. then, in the other modules' hooks: NATS closed (EngineLifecycle), the HTTP server disposed, the
 *    store closed, the database (and the embedded server) stopped.
 *
 * engine.stop() is idempotent: EngineLifecycle calls it too, whichever of the two hooks Nest runs first.
 * If the whole sequence takes longer than `shutdown.timeoutMs` the watchdog logs it and exits with
 * status 1; nothing durable is lost (unfinished executions resume at the next start), only what the
 * audit buffer still held, which is logged.
 */
@Injectable()
export class GracefulShutdown implements BeforeApplicationShutdown, OnApplicationShutdown {
  private watchdog: NodeJS.Timeout | undefined;
  private readonly logger: Logger;

  constructor(
    @Inject(ENGINE) private readonly engine: Pick<Engine, 'stop' | 'liveExecutions'>,
    @Inject(APP_CONFIG) private readonly config: AnchorflowConfig,
    @Inject(ROOT_LOGGER) logger: Logger,
    private readonly audit: AuditService,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    this.logger = logger.child({ component: 'shutdown' });
  }

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    const timeoutMs = this.config.shutdown?.timeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    this.watchdog = setTimeout(() => {
      this.logger.fatal({ event: 'shutdown.timeout', timeoutMs }, `shutdown did not finish within ${timeoutMs} ms (shutdown.timeoutMs); exiting now — unfinished executions resume at the next start`);
      process.exit(1);
    }, timeoutMs);
    // the process must be able to end before the deadline once everything is closed
    this.watchdog.unref();

    const live = this.engine.liveExecutions;
    this.logger.info({ event: 'shutdown.draining', signal, liveExecutions: live, timeoutMs }, `draining: no new work; ${live} execution(s) in memory are handed back`);
    this.stopListening();
    try {
      await this.engine.stop();
    } catch (err) {
      this.logger.error({ err }, 'engine did not stop cleanly');
    }
    // leave a quarter of the budget to NATS, the store and the database
    await this.audit.close(Math.max(500, Math.floor((deadline - Date.now()) * 0.75)));
    this.logger.info({ event: 'shutdown.drained', audit: this.audit.stats() }, 'drained: engine stopped, audit log written');
  }

  /** the app closed in time: an in-process app (tests, the CLI) must not be killed later by the watchdog */
  onApplicationShutdown(): void {
    clearTimeout(this.watchdog);
    this.watchdog = undefined;
  }

  private stopListening(): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server?.listening) return;
    // no callback: Nest's adapter closes it again (and waits) after the before-shutdown hooks
    server.close();
  }
}
