import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy, Optional } from '@nestjs/common';
import type { Logger } from 'pino';
import { AuditService } from '../audit/audit.service.js';
import { SYSTEM_ACTOR } from '../audit/audit-entries.js';
import type { AnchorflowConfig } from '../config/config.schema.js';
import { APP_CONFIG } from '../config/config.token.js';
import { ROOT_LOGGER } from '../logging/logging.tokens.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { type PruneResult, pruneOnce, type RetentionPolicy, retentionEnabled } from './retention-pruner.js';
import { RETENTION_STORE, type RetentionStore } from './retention.port.js';

/** the first pass runs this soon after start (or after intervalMs, if shorter) */
const FIRST_RUN_DELAY_MS = 60_000;

/**
 * Background pruning of finished executions and their events (config `retention.*`; off by default:
 * everything is kept). Runs every `retention.intervalMs` in batches of `retention.batchSize`; each pass
 * that deleted something leaves one `retention.pruned` entry in the audit log. Stops between batches
 * when the daemon shuts down.
 */
@Injectable()
export class RetentionService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly policy: RetentionPolicy;
  private readonly intervalMs: number;
  private readonly logger: Logger;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<PruneResult> | undefined;
  private stopped = false;

  constructor(
    @Inject(RETENTION_STORE) private readonly store: RetentionStore | null,
    @Inject(APP_CONFIG) config: AnchorflowConfig,
    @Inject(ROOT_LOGGER) logger: Logger,
    @Optional() private readonly audit?: AuditService,
    @Optional() private readonly metrics?: MetricsService,
  ) {
    const r = config.retention;
    this.policy = { maxAgeDays: r?.maxAgeDays, maxPerWorkflow: r?.maxPerWorkflow, batchSize: r?.batchSize ?? 500 };
    this.intervalMs = r?.intervalMs ?? 3_600_000;
    this.logger = logger.child({ component: 'retention' });
  }

  get enabled(): boolean {
    return this.store !== null && retentionEnabled(this.policy);
  }

  onApplicationBootstrap(): void {
    if (!retentionEnabled(this.policy)) return;
    if (!this.store) {
      this.logger.warn({ event: 'retention.unavailable' }, 'retention is configured but this daemon has no SQL database; nothing is pruned');
      return;
    }
    this.logger.info({ event: 'retention.enabled', ...this.policy, intervalMs: this.intervalMs }, 'retention enabled');
    this.schedule(Math.min(FIRST_RUN_DELAY_MS, this.intervalMs));
  }

  /** One pass now (or the one in progress). */
  runOnce(): Promise<PruneResult> {
    if (!this.store) return Promise.resolve({ byAge: 0, byCount: 0, workflows: 0, ms: 0 });
    this.running ??= this.pass(this.store).finally(() => { this.running = undefined; });
    return this.running;
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.runOnce()
        .catch(() => undefined)
        .finally(() => this.schedule(this.intervalMs));
    }, delayMs);
    this.timer.unref();
  }

  private async pass(store: RetentionStore): Promise<PruneResult> {
    try {
      const result = await pruneOnce(store, this.policy, { shouldStop: () => this.stopped });
      if (result.byAge + result.byCount > 0) {
        this.logger.info({ event: 'retention.pruned', ...result }, `retention deleted ${result.byAge + result.byCount} finished execution(s)`);
        this.metrics?.retentionPruned.labels('age').inc(result.byAge);
        this.metrics?.retentionPruned.labels('count').inc(result.byCount);
        this.audit?.record({
          actor: SYSTEM_ACTOR,
          action: 'retention.pruned',
          target: 'executions',
          details: { byAge: result.byAge, byCount: result.byCount, maxAgeDays: this.policy.maxAgeDays, maxPerWorkflow: this.policy.maxPerWorkflow },
        });
      } else {
        this.logger.debug({ event: 'retention.pruned', ...result }, 'retention: nothing to delete');
      }
      return result;
    } catch (err) {
      this.logger.error({ err, event: 'retention.failed' }, 'retention pass failed; retrying at the next interval');
      throw err;
    }
  }
}
