/** A JSON-RPC error the node answered (not a transport failure). */
export class RpcAnswerError extends Error {
  constructor(
    readonly url: string,
    readonly code: number | undefined,
    message: string,
    /** the error's `data` member, when the node sent one (Casper sidecars explain themselves there) */
    readonly data?: unknown,
  ) {
    super(message);
  }
}

/** JSON-RPC 2.0 params: by position (EVM) or by name (Casper) */
export type RpcParams = unknown[] | Record<string, unknown>;

/** The node refused a query because of its size ("too many results", "block range too large", ...). */
export const isLimitError = (err: unknown): boolean =>
  err instanceof RpcAnswerError && /too many|limit|exceed|range|more than|too large|response size/i.test(err.message);

export interface RpcOptions {
  /** per-request timeout (ms) */
  timeoutMs?: number;
  /** called when a URL fails and the client moves to the next one */
  onFailover?: (from: string, to: string, reason: string) => void;
  signal?: AbortSignal;
}

/**
 * JSON-RPC over HTTP with failover: requests go to the current URL; a transport failure, an HTTP error or
 * a garbage answer moves to the next URL (round robin) and retries, up to one full round. JSON-RPC error
 * answers are the node's verdict and are thrown to the caller as RpcAnswerError.
 */
export class FailoverRpc {
  private current = 0;
  private nextId = 1;

  constructor(
    readonly urls: string[],
    private readonly options: RpcOptions = {},
  ) {
    if (!urls.length) throw new Error('at least one RPC URL is required');
  }

  get url(): string {
    return this.urls[this.current]!;
  }

  async call<T>(method: string, params: RpcParams): Promise<T> {
    let lastError = '';
    for (let attempt = 0; attempt < this.urls.length; attempt++) {
      const url = this.url;
      try {
        return await this.once<T>(url, method, params);
      } catch (err) {
        if (err instanceof RpcAnswerError) throw err;
        if (this.options.signal?.aborted) throw err;
        lastError = `${url}: ${(err as Error).message}`;
        const from = url;
        this.current = (this.current + 1) % this.urls.length;
        if (this.urls.length > 1) this.options.onFailover?.(from, this.url, (err as Error).message);
      }
    }
    throw new Error(`every RPC URL failed for ${method}; last: ${lastError}`);
  }

  private async once<T>(url: string, method: string, params: RpcParams): Promise<T> {
    const signals = [AbortSignal.timeout(this.options.timeoutMs ?? 10_000)];
    if (this.options.signal) signals.push(this.options.signal);
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: this.nextId++, method, params }),
      signal: AbortSignal.any(signals),
    });
    const text = await res.text();
    let body: { result?: T; error?: { code?: number; message?: string; data?: unknown } };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new Error(`HTTP ${res.status}: answer is not JSON (${text.slice(0, 80)})`);
    }
    if (body && typeof body === 'object' && body.error) throw new RpcAnswerError(url, body.error.code, `${method}: ${body.error.message ?? 'error'}`, body.error.data);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    if (!body || typeof body !== 'object' || !('result' in body)) throw new Error('answer has no result');
    return body.result as T;
  }
}
