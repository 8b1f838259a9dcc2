import type { CredentialsAccessor, NodeLogger } from './node.js';

/** An HTTP request to `/hooks/<path>`, as the daemon hands it to a webhook capability. */
export interface WebhookRequest {
  method: string;
  /** under /hooks/, without slashes at either end */
  path: string;
  /** lower-case names, as Node gives them */
  headers: Record<string, unknown>;
  query: Record<string, unknown>;
  /** the parsed body (JSON, form or text); undefined without one */
  body: unknown;
  /** the body's bytes as received, for signature checks (when the daemon kept them) */
  rawBody?: Uint8Array;
}

/** The HTTP surface of a trigger node, from its (static, validated) params. */
export interface WebhookRoute {
  /** GET, POST, PUT, PATCH or DELETE */
  method: string;
  /** path under /hooks/: segments of letters, digits and -_. separated by single slashes */
  path: string;
  /**
   * `immediately`: 202 with the execution reference once the start is durable; `lastNode`: wait for the
   * execution (hooks.responseTimeoutMs) and answer 200 with its output (500 when it failed).
   */
  respond: 'immediately' | 'lastNode';
  /**
   * Who may call (issue 17): `public` anyone who can reach /hooks; `signed` only requests the node's
   * `verify` accepts (a signature over the body); `key` only callers presenting an API key or editor
   * token whose role has `executions:run`. Default `public`.
   */
  exposure?: WebhookExposure;
  /** a larger body is refused with 413 before anything starts (the daemon's http.bodyLimit applies anyway) */
  maxBodyBytes?: number;
  /** at most `limit` accepted requests per `windowMs` on each daemon; more get 429 and start nothing */
  rateLimit?: { limit: number; windowMs: number };
}

export const WEBHOOK_EXPOSURES = ['public', 'signed', 'key'] as const;
export type WebhookExposure = (typeof WEBHOOK_EXPOSURES)[number];

export interface WebhookVerifyContext<P> {
  params: P;
  credentials: CredentialsAccessor;
  logger: NodeLogger;
  /** epoch ms on the engine's clock (for signature timestamps) */
  now(): number;
}

/**
 * A trigger node that HTTP requests start (`defineNode({ ..., webhook: { ... } })`). The daemon's /hooks
 * router is generic: it asks `route` where each active node listens, runs `verify` before anything
 * starts, and starts the workflow at this node with `input(request)`.
 */
export interface WebhookCapability<P = any> {
  /** where the node listens; undefined: nowhere (e.g. params without a path) */
  route(params: P): WebhookRoute | undefined;
  /** optional check of the request (a signature, a shared secret): throw WebhookRejection to refuse it */
  verify?(request: WebhookRequest, ctx: WebhookVerifyContext<P>): Promise<void> | void;
  /** the execution's input; default: the body (`{}` without one) */
  input?(request: WebhookRequest, params: P): unknown;
}

/** Thrown by `verify`: the caller gets this status and `{ error: { code, message } }`, and nothing starts. */
export class WebhookRejection extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 409 | 413 | 415 | 422 | 429,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'WebhookRejection';
  }
}

export const WEBHOOK_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
