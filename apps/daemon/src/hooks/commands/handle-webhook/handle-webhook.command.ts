import { Command } from '@nestjs/cqrs';

export interface WebhookRequest {
  /** path under /hooks/, without slashes at either end */
  path: string;
  method: string;
  body: unknown;
  headers: Record<string, unknown>;
  query: Record<string, unknown>;
  /** the body's bytes as received (kept for /hooks only), for signatures and size limits */
  rawBody?: Uint8Array;
}

export interface WebhookResponse {
  status: number;
  body: unknown;
  executionId?: string;
}

/** A call to /hooks/<path>: start the workflow listening there and shape the answer. */
export class HandleWebhookCommand extends Command<WebhookResponse> {
  constructor(readonly request: WebhookRequest) {
    super();
  }
}
