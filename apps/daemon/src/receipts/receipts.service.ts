import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { receiptBodyOf, receiptLeaf, type ExecutionReader, type ExecutionStore, type ReceiptBody } from '@anchorflow/engine';
import { PgReceiptQueue, type QueuedItem } from '@anchorflow/persistence';
import type { DeliveredProof } from '@anchorflow/plugin-chain-anchor';
import type { PluginState } from '@anchorflow/plugin-sdk';
import type { AuditHead } from '@anchorflow/security';
import type { Logger } from 'pino';
import { GetAuditHeadQuery } from '../audit/queries/get-audit-head/get-audit-head.query.js';
import { ApiError } from '../common/api-error.js';
import type { AnchorflowConfig } from '../config/config.schema.js';
import { APP_CONFIG } from '../config/config.token.js';
import { DATABASE, EXECUTION_READER, EXECUTION_STORE, PLUGIN_STATE } from '../core/database/database.tokens.js';
import { ROOT_LOGGER } from '../logging/logging.tokens.js';
import { auditAnchorKey, auditHeadStatement, auditPendingKey, CHAIN_ANCHOR_PLUGIN, pendingItem, receiptKey, receiptPendingPrefix, RECEIPT_PREFIX, RECEIPTS_STATE } from './receipt-keys.js';
import { ENGINE_EVENTS, type EngineEvents } from '../events/engine-events.js';

/** a finished execution's history is handed over in batches of at most this many (one SQL statement each) */
const BATCH = 5_000;
const RETRY_MS = 1_000;
/** the start-up pass looks this far before the last pass (clock skew, commits in flight) */
const WATERMARK_MARGIN_MS = 5 * 60_000;
export const DEFAULT_AUDIT_ANCHOR_EVERY_MS = 3_600_000;

export type ReceiptAnswer = { kind: 'ready'; receipt: ReceiptBody & { proof: unknown } } | { kind: 'anchoring'; retryAfterSeconds: number };

/**
 * Execution receipts and audit-head anchoring (issue 13). When `receipts.network` is set:
 * - every `execution.finished` is handed to the chain-anchor batcher once its history is durable: the
 *   receipt statement (ReceiptBody: ids, status, eventCount, historyHead) is read from the stored history's
 *   ends and its §9 leaf queued in the plugin's state (receipt-keys.ts), many executions per statement;
 * - a SIGKILL between finish and hand-off is repaired at the next start (finished executions since the
 *   last start-up pass with neither a pending item nor a receipt are queued) and by GET …/receipt itself;
 * - every `audit.anchorEveryMs` the audit log's head is queued the same way.
 */
@Injectable()
export class ReceiptsService implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  readonly network: string | null;
  private readonly queue: PgReceiptQueue | null;
  private readonly logger: Logger;
  private readonly chainState: PluginState;
  private readonly ownState: PluginState;
  private readonly auditEveryMs: number;
  private readonly retryAfterSeconds: number;
  private subscription?: { unsubscribe(): void };
  private readonly finished = new Set<string>();
  private draining?: Promise<void>;
  private retryTimer?: NodeJS.Timeout;
  private auditTimer?: NodeJS.Timeout;
  private lastAuditSeq = 0;
  private stopped = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AnchorflowConfig,
    @Inject(ROOT_LOGGER) logger: Logger,
    @Inject(DATABASE) db: { pool?: unknown },
    @Inject(EXECUTION_STORE) private readonly store: Pick<ExecutionStore, 'durable'>,
    @Inject(EXECUTION_READER) private readonly reader: Pick<ExecutionReader, 'events' | 'get'>,
    @Inject(PLUGIN_STATE) pluginState: (plugin: string) => PluginState,
    @Inject(ENGINE_EVENTS) private readonly engineEvents: EngineEvents,
    private readonly queries: QueryBus,
  ) {
    this.logger = logger.child({ component: 'receipts' });
    this.network = config.receipts?.network ?? null;
    this.queue = db?.pool ? new PgReceiptQueue(db as ConstructorParameters<typeof PgReceiptQueue>[0]) : null;
    this.chainState = pluginState(CHAIN_ANCHOR_PLUGIN);
    this.ownState = pluginState(RECEIPTS_STATE);
    const every = config.audit?.anchorEveryMs;
    this.auditEveryMs = this.network ? (every ?? DEFAULT_AUDIT_ANCHOR_EVERY_MS) : 0;
    const chain = (config.pluginConfig?.['chain-anchor'] as { chains?: Record<string, { maxWaitMs?: number }> } | undefined)?.chains?.[this.network ?? ''];
    this.retryAfterSeconds = Math.max(1, Math.ceil(((chain?.maxWaitMs ?? 2_000) + 1_000) / 1_000));
  }

  get enabled(): boolean {
    return this.network !== null && this.queue !== null;
  }

  onModuleInit(): void {
    if (!this.enabled) return;
    this.subscription = this.engineEvents.subscribe((e) => {
      if (e?.type === 'execution.finished' && typeof e.executionId === 'string') {
        this.finished.add(e.executionId);
        this.kick();
      }
    });
  }

  onApplicationBootstrap(): void {
    if (this.network === null) return;
    if (!this.queue) {
      this.logger.warn({ event: 'receipts.unavailable' }, 'receipts.network is set but this daemon has no SQL database; no receipts are made');
      return;
    }
    const chains = (this.config.pluginConfig?.['chain-anchor'] as { chains?: Record<string, unknown> } | undefined)?.chains ?? {};
    if (!(this.network in chains)) {
      this.logger.error({ event: 'receipts.unknown-network', network: this.network }, `receipts.network "${this.network}" is not a network of pluginConfig.chain-anchor.chains (configured: ${Object.keys(chains).join(', ') || 'none'}); receipts wait until it is`);
    }
    if (!this.config.plugins?.some((p) => p.includes('chain-anchor'))) {
      this.logger.warn({ event: 'receipts.no-batcher' }, 'receipts.network is set but no chain-anchor plugin is listed in `plugins`: receipts are queued for a batcher that runs elsewhere');
    }
    this.logger.info({ event: 'receipts.enabled', network: this.network, auditAnchorEveryMs: this.auditEveryMs }, 'execution receipts enabled');
    void this.repair().catch((err: unknown) => this.logger.warn({ err, event: 'receipts.repair-failed' }, 'could not look for finished executions without a receipt; GET …/receipt still queues them'));
    if (this.auditEveryMs > 0) this.scheduleAudit();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    this.subscription?.unsubscribe();
    clearTimeout(this.retryTimer);
    clearTimeout(this.auditTimer);
    await this.draining?.catch(() => undefined);
  }

  /** what GET /executions/:id/receipt answers */
  async receipt(executionId: string): Promise<ReceiptAnswer> {
    if (!this.enabled) throw new ApiError(404, 'RECEIPTS_DISABLED', 'execution receipts are off on this daemon: set receipts.network to a chain-anchor network');
    // only the history's two ends (clients poll this while a receipt is anchored): not every event parsed
    const ends = (await this.queue!.historyEnds([executionId])).get(executionId);
    if (!ends && !(await this.reader.get(executionId))) throw new ApiError(404, 'NOT_FOUND', `execution ${executionId} not found`);
    const body = receiptBodyOf(executionId, ends ? [ends.first, ends.last] : []);
    if (typeof body === 'string') {
      throw new ApiError(404, body.includes('not ended') ? 'RECEIPT_NOT_READY' : 'RECEIPT_UNAVAILABLE', `no receipt for execution ${executionId}: ${body}`);
    }
    const delivered = await this.chainState.get<DeliveredProof>(receiptKey(executionId));
    if (delivered?.proof) return { kind: 'ready', receipt: { ...body, proof: delivered.proof } };
    // not anchored yet: make sure it is queued (a hand-off lost to a crash is repaired here too)
    await this.queue!.enqueue(CHAIN_ANCHOR_PLUGIN, [this.itemFor(body)]);
    return { kind: 'anchoring', retryAfterSeconds: this.retryAfterSeconds };
  }

  /** queues the audit log's head now (when it moved since the last time); returns it */
  async anchorAuditHead(): Promise<AuditHead | null> {
    if (!this.enabled) return null;
    const head = await this.queries.execute(new GetAuditHeadQuery(true));
    if (!head || head.seq <= this.lastAuditSeq) return head;
    const key = auditAnchorKey(head.seq);
    await this.queue!.enqueue(CHAIN_ANCHOR_PLUGIN, [{ key: auditPendingKey(this.network!, head.seq), value: pendingItem(receiptLeaf(auditHeadStatement(head)), key, Date.now()), unlessKey: key }]);
    this.lastAuditSeq = head.seq;
    this.logger.info({ event: 'receipts.audit-head-queued', seq: head.seq }, 'audit head queued for anchoring');
    return head;
  }

  /** resolves once every execution finished so far has been handed over (tests, shutdown) */
  async idle(): Promise<void> {
    for (;;) {
      if (this.draining) await this.draining;
      else if (this.finished.size && !this.retryTimer && !this.stopped) this.kick();
      else return; // done, or a failed hand-off waits for its retry
    }
  }

  private itemFor(body: ReceiptBody): QueuedItem {
    const key = receiptKey(body.executionId);
    return { key: `${receiptPendingPrefix(this.network!)}${body.executionId}`, value: pendingItem(receiptLeaf(body), key, Date.now()), unlessKey: key };
  }

  private kick(): void {
    if (this.draining || this.retryTimer || this.stopped) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      if (this.finished.size && !this.retryTimer) this.kick();
    });
  }

  private async drain(): Promise<void> {
    const ids = [...this.finished].slice(0, BATCH);
    if (!ids.length) return;
    for (const id of ids) this.finished.delete(id);
    try {
      // the engine publishes before its group commit: the history must be stored before it is read
      await this.store.durable();
      const ends = await this.queue!.historyEnds(ids);
      const items: QueuedItem[] = [];
      for (const [id, { first, last }] of ends) {
        const body = receiptBodyOf(id, [first, last]);
        if (typeof body === 'string') this.logger.warn({ event: 'receipts.no-statement', executionId: id }, `no receipt for execution ${id}: ${body}`);
        else items.push(this.itemFor(body));
      }
      await this.queue!.enqueue(CHAIN_ANCHOR_PLUGIN, items);
    } catch (err) {
      for (const id of ids) this.finished.add(id);
      this.logger.warn({ err, event: 'receipts.handoff-failed', executions: ids.length }, 'could not hand finished executions to the anchor batcher; retrying');
      if (!this.stopped) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.kick();
        }, RETRY_MS);
        this.retryTimer.unref();
      }
    }
  }

  /** start-up: finished executions since the last start-up pass that were never handed over (SIGKILL between finish and hand-off) */
  private async repair(): Promise<void> {
    const network = this.network!;
    const passStart = Date.now();
    const watermarkKey = `watermark/${network}`;
    let since = await this.ownState.get<number>(watermarkKey);
    // first time receipts are on here: histories written before had no hashes, nothing to repair
    if (since === undefined) since = passStart - WATERMARK_MARGIN_MS;
    let found = 0;
    for (;;) {
      const missing = await this.queue!.missing(CHAIN_ANCHOR_PLUGIN, receiptPendingPrefix(network), RECEIPT_PREFIX, since, BATCH);
      if (!missing.length || this.stopped) break;
      found += missing.length;
      for (const m of missing) this.finished.add(m.id);
      await this.idle();
      since = missing[missing.length - 1]!.finishedAt;
      if (missing.length < BATCH) break;
    }
    await this.ownState.set(watermarkKey, passStart - WATERMARK_MARGIN_MS);
    if (found) this.logger.info({ event: 'receipts.repaired', executions: found }, `queued ${found} finished executions whose receipt hand-off was lost`);
  }

  private scheduleAudit(): void {
    if (this.stopped) return;
    this.auditTimer = setTimeout(() => {
      this.auditTimer = undefined;
      void this.anchorAuditHead()
        .catch((err: unknown) => this.logger.warn({ err, event: 'receipts.audit-anchor-failed' }, 'could not queue the audit head for anchoring; next time'))
        .finally(() => this.scheduleAudit());
    }, this.auditEveryMs);
    this.auditTimer.unref();
  }
}
