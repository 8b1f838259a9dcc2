import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy, Optional } from '@nestjs/common';
import { type Engine, EngineError, type NamedLeases, type StoredWorkflow, type WorkflowDefinition, type WorkflowRepository } from '@anchorflow/engine';
import { LeaseHolder } from '@anchorflow/plugin-host';
import { type PluginState, type TriggerMessaging, isTriggerNode, sleepUntilOn, validateParams } from '@anchorflow/plugin-sdk';
import type { Logger } from 'pino';
import type { AnchorflowConfig } from '../config/config.schema.js';
import { APP_CONFIG } from '../config/config.token.js';
import { NAMED_LEASES, PLUGIN_STATE, WORKFLOW_REPOSITORY } from '../core/database/database.tokens.js';
import { DAEMON_ID, ENGINE, NATS_CLUSTER } from '../engine/engine.tokens.js';
import type { NatsCluster } from '../engine/nats-cluster.js';
import { createTriggerMessaging } from '@anchorflow/transport';
import { noCredentials } from '../engine/engine.factory.js';
import { ROOT_LOGGER } from '../logging/logging.tokens.js';
import { toNodeLogger } from '../logging/logger.js';
import type { EngineSecurity } from '../security/security.module.js';
import { ENGINE_SECURITY } from '../security/security.tokens.js';
import { WebhookIndex } from './webhook-index.js';

interface RunningSource {
  nodeId: string;
  /** the source runs while this daemon holds `trigger:<workflowId>/<nodeId>` */
  lease: LeaseHolder;
}

/**
 * Turns workflows' triggers on and off: the webhook routing table, and the long-lived trigger sources
 * plugins define with defineTrigger (started on activation, stopped on deactivation, update or delete).
 * A source runs on one daemon of a cluster at a time: the one holding its lease (NamedLeases), and
 * another daemon starts it when that one dies.
 * Workflow command handlers call it directly (not through events) because it must have happened
 * before they answer.
 */
@Injectable()
export class TriggerRegistry implements OnApplicationBootstrap, OnModuleDestroy {
  readonly webhooks = new WebhookIndex((type) => this.engine.catalog.get(type));
  private readonly sources = new Map<string, RunningSource[]>();
  /** NATS subscriptions for trigger sources (cluster mode only) */
  private readonly messaging: TriggerMessaging | undefined;

  constructor(
    @Inject(ENGINE) private readonly engine: Engine,
    @Inject(WORKFLOW_REPOSITORY) private readonly workflows: WorkflowRepository,
    @Inject(PLUGIN_STATE) private readonly pluginState: (plugin: string) => PluginState,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
    @Inject(NAMED_LEASES) private readonly leases: NamedLeases,
    @Inject(DAEMON_ID) private readonly daemonId: string,
    @Inject(APP_CONFIG) private readonly config: AnchorflowConfig,
    /** the credentials vault (SecurityModule); absent in apps without it */
    @Optional() @Inject(ENGINE_SECURITY) private readonly security?: EngineSecurity,
    @Optional() @Inject(NATS_CLUSTER) cluster?: NatsCluster | null,
  ) {
    this.messaging = cluster ? createTriggerMessaging({ nc: cluster.nc, prefix: cluster.prefix, logger: toNodeLogger(logger.child({ component: 'trigger-messaging' })) }) : undefined;
  }

  async onApplicationBootstrap(): Promise<void> {
    const active = await this.workflows.listActive();
    for (const workflow of active) await this.apply(workflow);
    this.logger.info({ event: 'triggers.loaded', workflows: active.length, webhooks: this.webhooks.size }, 'active workflow triggers loaded');
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([...this.sources.keys()].map((id) => this.stopSources(id)));
  }

  /** Throws CONFLICT when activating this definition would take a webhook route another workflow has. */
  assertCanActivate(workflow: { id: string; definition: WorkflowDefinition }): void {
    const needCluster = this.messaging ? [] : this.clusterOnlyTriggers(workflow.definition);
    if (needCluster.length) {
      const list = needCluster.map((n) => `${n.id}: ${n.type}`).join(', ');
      throw new EngineError('VALIDATION_FAILED', `trigger ${list} needs cluster mode, and this daemon runs without NATS: configure nats.url (NATS_URL) or remove the node`, needCluster.map((n) => ({ path: `$.nodes[${n.index}]`, message: `${n.type} needs cluster mode (nats.url)` })));
    }
    const conflicts = this.webhooks.conflicts(workflow);
    if (conflicts.length) {
      const list = conflicts.map((c) => `${c.method} /hooks/${c.path} (node ${c.nodeId}) is taken by workflow ${c.takenBy.workflowId} node ${c.takenBy.nodeId}`);
      throw new EngineError('CONFLICT', `webhook route already in use: ${list.join('; ')}`, conflicts);
    }
  }

  /** Brings triggers in line with this stored workflow (active or not, at its latest version). */
  async apply(workflow: StoredWorkflow): Promise<void> {
    this.webhooks.set(workflow);
    await this.stopSources(workflow.id);
    if (workflow.active) this.startSources(workflow);
  }

  async remove(workflowId: string): Promise<void> {
    this.webhooks.remove(workflowId);
    await this.stopSources(workflowId);
  }

  /** trigger nodes whose source needs NATS (`requires: 'cluster'`) */
  private clusterOnlyTriggers(definition: WorkflowDefinition): Array<{ id: string; type: string; index: number }> {
    const out: Array<{ id: string; type: string; index: number }> = [];
    (definition.nodes ?? []).forEach((node, index) => {
      const def = this.engine.catalog.get(node.type);
      if (def && isTriggerNode(def) && def.trigger.requires === 'cluster') out.push({ id: node.id, type: node.type, index });
    });
    return out;
  }

  private startSources(workflow: StoredWorkflow): void {
    const running: RunningSource[] = [];
    for (const node of workflow.definition.nodes) {
      const def = this.engine.catalog.get(node.type);
      if (!def || !isTriggerNode(def)) continue;
      const plugin = this.engine.catalog.pluginOf(node.type)!;
      const log = this.logger.child({ workflowId: workflow.id, nodeId: node.id, nodeType: node.type });
      if (def.trigger.requires === 'cluster' && !this.messaging) {
        log.error({ event: 'trigger.cluster-required' }, `trigger not started: ${node.type} needs cluster mode (nats.url), and this daemon runs without NATS`);
        continue;
      }
      const { value: params, problems } = validateParams(def.params, node.params ?? {});
      if (problems.length) {
        log.error({ problems }, 'trigger not started: invalid params');
        continue;
      }
      const fire = (payload: unknown, options?: { dedupeKey?: string }) =>
        this.engine.start({ workflowId: workflow.id, version: workflow.version, definition: workflow.definition, input: payload, triggerNodeId: node.id, dedupeKey: options?.dedupeKey });
      let abort: AbortController | undefined;
      let stop: Promise<(() => Promise<void> | void) | undefined> | undefined;
      const lease = new LeaseHolder(`trigger:${workflow.id}/${node.id}`, {
        leases: this.leases,
        holder: this.daemonId,
        ttlMs: this.config.cluster.leaseMs,
        logger: toNodeLogger(log),
        onAcquired: () => {
          const controller = (abort = new AbortController());
          const ctx = {
            params,
            workflowId: workflow.id,
            nodeId: node.id,
            logger: toNodeLogger(log),
            credentials: this.security?.credentials ?? noCredentials,
            state: this.pluginState(plugin),
            signal: controller.signal,
            now: () => this.engine.now(),
            sleepUntil: (at: number) => sleepUntilOn(this.engine, controller.signal, at),
            // the same across restarts; a new one after re-activation or an edit (both move updatedAt)
            activation: `${workflow.version}@${workflow.updatedAt}`,
            ...(this.messaging ? { messaging: this.messaging } : {}),
          };
          // a start that fails (the database or NATS away for a moment) is tried again while the lease is
          // held, 1 s doubling to 60 s: a trigger must not stay off until the next restart
          stop = (async () => {
            for (let delay = 1000; !controller.signal.aborted; delay = Math.min(delay * 2, 60_000)) {
              try {
                return await def.trigger.start(ctx, fire);
              } catch (err) {
                if (controller.signal.aborted) return undefined;
                log.error({ err, retryInMs: delay }, 'trigger failed to start; trying again');
                await ctx.sleepUntil(this.engine.now() + delay);
              }
            }
            return undefined;
          })();
        },
        onLost: async () => {
          abort?.abort();
          const stopping = stop;
          abort = undefined;
          stop = undefined;
          try {
            await (await stopping)?.();
          } catch (err) {
            log.warn({ err }, 'trigger failed to stop cleanly');
          }
        },
      });
      lease.start();
      running.push({ nodeId: node.id, lease });
    }
    if (running.length) this.sources.set(workflow.id, running);
  }

  private async stopSources(workflowId: string): Promise<void> {
    const running = this.sources.get(workflowId);
    if (!running) return;
    this.sources.delete(workflowId);
    await Promise.all(running.map((source) => source.lease.stop()));
  }
}
