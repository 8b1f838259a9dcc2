import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { ExecutionEvent } from '@anchorflow/engine';
import type { Logger } from 'pino';
import { ROOT_LOGGER } from './logging.tokens.js';
import { ENGINE_EVENTS, type EngineEvents } from '../events/engine-events.js';

/**
 * One log line per step of an execution, each with `executionId` (and `nodeId`, `attempt` for node steps),
 * so `grep <executionId>` tells an execution's story next to what its nodes logged (the engine binds the
 * same ids to node loggers) and, for an execution started by a request, that request's `reqId`.
 * Starts and ends at info, failures at warn, the other node steps at debug. Payloads, outputs and resume
 * tokens are never logged.
 */
@Injectable()
export class ExecutionLog implements OnModuleInit, OnApplicationShutdown {
  private readonly log: Logger;
  private subscription?: { unsubscribe(): void };

  constructor(
    @Inject(ENGINE_EVENTS) private readonly engineEvents: EngineEvents,
    @Inject(ROOT_LOGGER) logger: Logger,
  ) {
    this.log = logger.child({ component: 'executions' });
  }

  onModuleInit(): void {
    this.subscription = this.engineEvents.subscribe((event) => {
      try {
        this.write(event);
      } catch {
        // a log line must never break event delivery
      }
    });
  }

  onApplicationShutdown(): void {
    this.subscription?.unsubscribe();
  }

  private write(e: ExecutionEvent): void {
    const base = { event: e?.type, executionId: e?.executionId, seq: e?.seq };
    switch (e?.type) {
      case 'execution.started':
        this.log.info({ ...base, workflowId: e.workflowId, workflowVersion: e.workflowVersion, triggerNodeId: e.triggerNodeId }, 'execution started');
        return;
      case 'execution.finished':
        if (e.status === 'failed') this.log.warn({ ...base, status: e.status, error: e.error && { code: e.error.code, message: e.error.message, nodeId: e.error.nodeId } }, 'execution failed');
        else this.log.info({ ...base, status: e.status }, `execution ${e.status}`);
        return;
      case 'execution.cancel-requested':
        this.log.info({ ...base, reason: e.reason }, 'execution cancel requested');
        return;
      case 'node.failed':
        this.log.warn({ ...base, nodeId: e.nodeId, attempt: e.attempt, error: { code: e.error.code, message: e.error.message, retryable: e.error.retryable }, ...(e.retryAt !== undefined ? { retryAt: new Date(e.retryAt).toISOString() } : {}) },
          e.retryAt !== undefined ? 'node attempt failed; retrying' : 'node failed');
        return;
      case 'node.started':
      case 'node.succeeded':
        this.log.debug({ ...base, nodeId: e.nodeId, attempt: e.attempt }, e.type === 'node.started' ? 'node started' : 'node succeeded');
        return;
      case 'node.waiting':
        this.log.debug({ ...base, nodeId: e.nodeId, attempt: e.attempt, ...(e.until !== undefined ? { until: new Date(e.until).toISOString() } : {}), signal: e.token !== undefined }, 'node waiting');
        return;
      case 'node.resumed':
        this.log.debug({ ...base, nodeId: e.nodeId, reason: e.reason }, 'node resumed');
        return;
      case 'node.skipped':
      case 'node.cancelled':
        this.log.debug({ ...base, nodeId: e.nodeId }, e.type === 'node.skipped' ? 'node skipped' : 'node cancelled');
        return;
      default:
    }
  }
}
