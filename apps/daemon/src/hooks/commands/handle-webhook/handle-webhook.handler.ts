import { Inject, Optional } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { type Engine, EngineError } from '@anchorflow/engine';
import { type NodeLogger, silentLogger } from '@anchorflow/plugin-sdk';
import type { Logger } from 'pino';
import { noCredentials } from '../../../engine/engine.factory.js';
import { toNodeLogger } from '../../../logging/logger.js';
import { ROOT_LOGGER } from '../../../logging/logging.tokens.js';
import type { EngineSecurity } from '../../../security/security.module.js';
import { ENGINE_SECURITY } from '../../../security/security.tokens.js';
import { ApiError } from '../../../common/api-error.js';
import type { AnchorflowConfig } from '../../../config/config.schema.js';
import { APP_CONFIG } from '../../../config/config.token.js';
import { ENGINE } from '../../../engine/engine.tokens.js';
import { TriggerRegistry } from '../../../triggers/trigger-registry.service.js';
import type { WebhookIndex, WebhookRoute } from '../../../triggers/webhook-index.js';
import { HandleWebhookCommand, type WebhookResponse } from './handle-webhook.command.js';
import { AUTHENTICATOR } from '../../../auth/auth.tokens.js';
import type { Authenticator } from '../../../auth/authenticator.js';
import { WebhookGate } from '../../webhook-gate.js';
import { executionRef } from '../../../executions/execution.presenter.js';

/**
 * Request headers that carry the caller's credentials: never stored with the execution's input (which
 * viewers can read) when a webhook has `include: "request"` (issue 17).
 */
export const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set(['authorization', 'proxy-authorization', 'cookie', 'x-api-key', 'x-auth-token', 'x-access-token', 'x-amz-security-token']);

/** the headers without the caller's credentials (names compared case-insensitively) */
export function withoutCredentialHeaders(headers: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(headers)) if (!CREDENTIAL_HEADERS.has(name.toLowerCase())) out[name] = value;
  return out;
}

/**
 * The webhook hot path: the route comes from the in-memory index (no database read), the body is taken
 * as parsed (no DTO validation: it is the workflow's input, whatever its shape). Generic: the trigger's
 * node type declares its route, request check and request → input mapping (its `webhook` capability).
 */
@CommandHandler(HandleWebhookCommand)
export class HandleWebhookHandler implements ICommandHandler<HandleWebhookCommand> {
  private readonly webhooks: WebhookIndex;
  private readonly responseTimeoutMs: number;
  private readonly gate: WebhookGate;

  constructor(
    @Inject(ENGINE) private readonly engine: Pick<Engine, 'start' | 'whenFinished'> & Partial<Pick<Engine, 'now'>>,
    @Inject(TriggerRegistry) triggers: { webhooks: WebhookIndex },
    @Inject(APP_CONFIG) config: Pick<AnchorflowConfig, 'hooks'>,
    @Optional() @Inject(ENGINE_SECURITY) security?: Pick<EngineSecurity, 'credentials'>,
    @Optional() @Inject(ROOT_LOGGER) private readonly logger?: Logger,
    @Optional() @Inject(AUTHENTICATOR) authenticator?: Pick<Authenticator, 'authenticate'>,
  ) {
    this.webhooks = triggers.webhooks;
    this.responseTimeoutMs = config.hooks.responseTimeoutMs;
    // size, exposure (API key / signature) and rate limit: one place, before anything starts
    this.gate = new WebhookGate({
      credentials: security?.credentials ?? noCredentials,
      now: () => (engine.now ? engine.now() : Date.now()),
      ...(authenticator ? { authenticate: (headers) => authenticator.authenticate(headers) } : {}),
      logger: (route) => this.routeLogger(route),
    });
  }

  /**
   * The logger a route's `verify` gets, made once per route (a route lives until its workflow changes):
   * a pino child per call was ~0.6 % of a webhook call's CPU (issue 18).
   */
  private readonly routeLoggers = new WeakMap<WebhookRoute, NodeLogger>();
  private routeLogger(route: WebhookRoute): NodeLogger {
    if (!this.logger) return silentLogger;
    let logger = this.routeLoggers.get(route);
    if (!logger) {
      logger = toNodeLogger(this.logger.child({ workflowId: route.workflowId, nodeId: route.nodeId }));
      this.routeLoggers.set(route, logger);
    }
    return logger;
  }

  async execute({ request }: HandleWebhookCommand): Promise<WebhookResponse> {
    const match = this.webhooks.match(request.path, request.method);
    if ('error' in match) {
      if (match.error === 'METHOD_NOT_ALLOWED') {
        throw new ApiError(405, 'METHOD_NOT_ALLOWED', `the webhook /hooks/${request.path} accepts ${match.allowed.join(', ')}, not ${request.method}`, { allowed: match.allowed });
      }
      throw new EngineError('NOT_FOUND', `no active workflow listens on /hooks/${request.path} (activate a workflow with a webhook trigger whose path is "${request.path}")`);
    }
    const { route } = match;
    const { capability, params } = route;
    await this.gate.admit(route, request);
    // what the workflow gets never carries the caller's credentials (the check above has seen them)
    const { rawBody: _raw, ...rest } = request;
    const forWorkflow = { ...rest, headers: withoutCredentialHeaders(request.headers) };
    const input = capability.input ? capability.input(forWorkflow, params) : (request.body ?? {});
    const lastNode = route.respond === 'lastNode';
    const { executionId } = await this.engine.start({
      workflowId: route.workflowId,
      version: route.version,
      definition: route.definition,
      input,
      triggerNodeId: route.nodeId,
      // the caller waits for the result: a crash before the first commit shows as a failed request
      ...(lastNode ? { awaitDurable: false } : {}),
    });
    if (!lastNode) return { status: 202, body: executionRef(executionId, 'running'), executionId };

    const view = await this.engine.whenFinished(executionId, this.responseTimeoutMs);
    if (!view) return { status: 202, body: executionRef(executionId, 'running'), executionId };
    if (view.status === 'succeeded') {
      const output = view.output ?? {};
      const keys = Object.keys(output);
      return { status: 200, body: keys.length === 1 ? (output[keys[0]!] ?? null) : output, executionId };
    }
    const failed = view.status === 'failed';
    return {
      status: 500,
      executionId,
      body: {
        error: {
          code: failed ? 'EXECUTION_FAILED' : 'EXECUTION_CANCELLED',
          message: view.error?.message ?? (failed ? 'the execution failed' : 'the execution was cancelled'),
          details: { executionId, ...(view.error?.nodeId ? { nodeId: view.error.nodeId } : {}), ...(view.error?.code ? { errorCode: view.error.code } : {}) },
        },
      },
    };
  }
}
