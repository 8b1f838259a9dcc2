import { CliError, EXIT } from './exit-codes.js';
import type { CliIo } from './io.js';

export const DEFAULT_URL = 'http://127.0.0.1:8080';

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
}

/** The daemon's REST API for the CLI: ANCHORFLOW_URL and ANCHORFLOW_API_KEY; errors become CliErrors. */
export class CliApi {
  readonly baseUrl: string;
  private readonly apiKey: string | undefined;

  constructor(io: CliIo, options: { url?: string } = {}) {
    this.baseUrl = (options.url ?? io.env.ANCHORFLOW_URL ?? DEFAULT_URL).replace(/\/+$/, '');
    const key = io.env.ANCHORFLOW_API_KEY?.trim();
    this.apiKey = key ? key : undefined;
  }

  async request<T = unknown>(method: string, path: string, body?: unknown, timeoutMs = 60_000): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } })?.cause?.code ?? (err as Error).name;
      throw new CliError(`cannot reach the daemon at ${this.baseUrl} (${cause}); is it running? (set ANCHORFLOW_URL)`, EXIT.UNAVAILABLE);
    }
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch { /* not JSON */ }
    if (res.status >= 400) {
      const error = (parsed as { error?: { code?: string; message?: string; details?: unknown } })?.error;
      const what = error ? `${error.code}: ${error.message}` : `HTTP ${res.status}`;
      const details = Array.isArray(error?.details) ? `\n${(error!.details as Array<{ path?: string; message?: string }>).map((d) => `  - ${d.path ? `${d.path}: ` : ''}${d.message ?? JSON.stringify(d)}`).join('\n')}` : '';
      const hint = res.status === 401 ? ' (set ANCHORFLOW_API_KEY)' : '';
      throw new CliError(`${method} ${path} failed: ${what}${hint}${details}`, res.status === 401 || res.status === 403 ? EXIT.NO_PERMISSION : EXIT.FAILURE);
    }
    return { status: res.status, body: parsed as T };
  }
}
