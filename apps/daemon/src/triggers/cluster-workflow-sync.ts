import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { EventsHandler, type IEventHandler } from '@nestjs/cqrs';
import type { WorkflowRepository } from '@anchorflow/engine';
import { decodeWorkflowChanged, encodeWorkflowChanged, workflowChangedSubject } from '@anchorflow/transport';
import type { Logger } from 'pino';
import { WORKFLOW_REPOSITORY } from '../core/database/database.tokens.js';
import { ROOT_LOGGER } from '../logging/logging.tokens.js';
import { NATS_CLUSTER } from '../engine/engine.tokens.js';
import type { NatsCluster } from '../engine/nats-cluster.js';
import { WorkflowChangedEvent } from './events/workflow-changed.event.js';
import { TriggerRegistry } from './trigger-registry.service.js';

type Subscription = ReturnType<NatsCluster['nc']['subscribe']>;

/**
 * Several daemons on one database: each keeps the triggers of active workflows (webhook routes, trigger
 * sources) in memory. A change made through one daemon is announced on `<p>.v1.workflows.changed`, and
 * the others reload that workflow from the database, so a webhook activated through daemon A answers on
 * daemon B too. Without NATS (one daemon) this does nothing.
 */
@Injectable()
@EventsHandler(WorkflowChangedEvent)
export class ClusterWorkflowSync implements IEventHandler<WorkflowChangedEvent>, OnApplicationBootstrap, OnModuleDestroy {
  private sub?: Subscription;
  /** one reload at a time per workflow, in arrival order */
  private readonly queues = new Map<string, Promise<void>>();

  constructor(
    @Inject(NATS_CLUSTER) private readonly cluster: NatsCluster | null,
    @Inject(WORKFLOW_REPOSITORY) private readonly workflows: WorkflowRepository,
    @Inject(TriggerRegistry) private readonly triggers: Pick<TriggerRegistry, 'apply' | 'remove'>,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  /** a change made here: tell the other daemons */
  handle(event: WorkflowChangedEvent): void {
    if (!this.cluster) return;
    try {
      this.cluster.nc.publish(
        workflowChangedSubject(this.cluster.prefix),
        encodeWorkflowChanged({ workflowId: event.workflowId, version: event.version, change: event.change, daemonId: this.cluster.daemonId, at: Date.now() }),
      );
    } catch (err) {
      this.logger.warn({ err, workflowId: event.workflowId }, 'workflow change not announced to the other daemons');
    }
  }

  onApplicationBootstrap(): void {
    const cluster = this.cluster;
    if (!cluster) return;
    this.sub = cluster.nc.subscribe(workflowChangedSubject(cluster.prefix), {
      callback: (err, msg) => {
        if (err) return this.logger.warn({ err: String(err) }, 'workflow change subscription error');
        const decoded = decodeWorkflowChanged(msg.data);
        if (!decoded.ok) return this.logger.warn({ reason: decoded.reason }, 'rejected a malformed workflow change message');
        const { workflowId, change, daemonId } = decoded.value;
        if (daemonId === cluster.daemonId) return;
        const previous = this.queues.get(workflowId) ?? Promise.resolve();
        const next = previous.then(() => this.reload(workflowId, change, daemonId));
        this.queues.set(workflowId, next);
        void next.finally(() => {
          if (this.queues.get(workflowId) === next) this.queues.delete(workflowId);
        });
      },
    });
  }

  onModuleDestroy(): void {
    this.sub?.unsubscribe();
    this.sub = undefined;
  }

  private async reload(workflowId: string, change: string, from: string): Promise<void> {
    try {
      const stored = change === 'deleted' ? undefined : await this.workflows.get(workflowId);
      if (stored) await this.triggers.apply(stored);
      else await this.triggers.remove(workflowId);
      this.logger.info({ event: 'workflow.synced', workflowId, change, from, active: stored?.active ?? false }, 'workflow changed on another daemon; triggers reloaded');
    } catch (err) {
      this.logger.error({ err, workflowId, change, from }, 'could not reload the triggers of a workflow changed on another daemon');
    }
  }
}
