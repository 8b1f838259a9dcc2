/**
 * A small typed client for the daemon's REST API (ARCHITECTURE §5), built on fetch. Every call returns
 * status, headers and the parsed body so tests can assert on the wire contract; the helpers that expect
 * success throw an error carrying the whole response when they do not get it.
 *
 * Every request carries `Authorization: Bearer <the run's admin key>` (see e2e-env `testAdminKey`) unless
 * the request sets Authorization or X-Api-Key itself, or the client was made with `{ apiKey: null }`.
 */
import { testAdminKey } from './e2e-env.js';

export interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  /** parsed JSON, or the text when the response is not JSON */
  body: T;
  text: string;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  /** sent as is instead of JSON.stringify(body) */
  raw?: string | Uint8Array;
  /** per-request timeout (default 30 s) */
  timeoutMs?: number;
}

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export interface NodeRun {
  nodeId: string;
  status: 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'cancelled' | 'waiting';
  attempt: number;
  input?: unknown;
  /** payload per output port */
  output?: Record<string, unknown>;
  error?: { code: string; message: string; retryable?: boolean; [k: string]: unknown };
  startedAt?: number | string;
  finishedAt?: number | string;
  [k: string]: unknown;
}

export interface Execution {
  id: string;
  workflowId: string;
  version: number;
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'waiting';
  input?: unknown;
  output?: Record<string, unknown>;
  error?: { code: string; message: string; nodeId?: string; [k: string]: unknown };
  nodeRuns: NodeRun[];
  /** the execution that started this one (core.subworkflow, error workflow) */
  parent?: { executionId: string; workflowId: string; nodeId?: string; reason: 'subworkflow' | 'error'; wait: boolean; depth: number };
  startedAt?: number | string;
  finishedAt?: number | string;
  [k: string]: unknown;
}

export interface ExecutionEventRecord {
  seq: number;
  type: string;
  at?: number | string;
  nodeId?: string;
  attempt?: number;
  [k: string]: unknown;
}

export interface WorkflowRecord {
  id: string;
  version: number;
  name: string;
  nodes: WorkflowNodeJson[];
  edges: WorkflowEdgeJson[];
  active?: boolean;
  [k: string]: unknown;
}

export interface WorkflowNodeJson {
  id: string;
  type: string;
  params?: Record<string, unknown>;
  position?: { x: number; y: number };
  retry?: Partial<{ maxAttempts: number; backoffMs: number; factor: number; maxBackoffMs: number }>;
  timeoutMs?: number;
  continueOnFail?: boolean;
  [k: string]: unknown;
}

export interface WorkflowEdgeJson {
  from: string;
  to: string;
  fromPort?: string;
  toPort?: string;
}

export interface WorkflowJson {
  name: string;
  nodes: WorkflowNodeJson[];
  edges: WorkflowEdgeJson[];
  [k: string]: unknown;
}

export const TERMINAL: ReadonlyArray<Execution['status']> = ['succeeded', 'failed', 'cancelled'];

export class ApiError extends Error {
  constructor(message: string, readonly response: HttpResult) {
    super(`${message}: HTTP ${response.status} ${response.text.slice(0, 2000)}`);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export class Api {
  /** the credential sent as `Authorization: Bearer …` (an API key or an editor token); null: none */
  readonly bearer: string | null;

  constructor(readonly baseUrl: string, options: { apiKey?: string | null } = {}) {
    this.bearer = options.apiKey === undefined ? testAdminKey() : options.apiKey;
  }

  async request<T = any>(method: string, path: string, body?: unknown, options: RequestOptions = {}): Promise<HttpResult<T>> {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (this.bearer !== null && !Object.keys(headers).some((h) => /^(authorization|x-api-key)$/i.test(h))) headers.authorization = `Bearer ${this.bearer}`;
    let payload: string | Uint8Array | undefined;
    if (options.raw !== undefined) payload = options.raw;
    else if (body !== undefined) payload = JSON.stringify(body);
    if (payload !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
    const res = await fetch(this.baseUrl + path, {
      method, headers, body: payload as BodyInit | undefined,
      signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
    });
    const text = await res.text();
    let parsed: unknown = text;
    if (text.length > 0 && (res.headers.get('content-type') ?? '').includes('json')) {
      try { parsed = JSON.parse(text); } catch { parsed = text; }
    }
    return { status: res.status, headers: res.headers, body: parsed as T, text };
  }

  get<T = any>(path: string, options?: RequestOptions): Promise<HttpResult<T>> { return this.request<T>('GET', path, undefined, options); }
  post<T = any>(path: string, body?: unknown, options?: RequestOptions): Promise<HttpResult<T>> { return this.request<T>('POST', path, body, options); }
  put<T = any>(path: string, body?: unknown, options?: RequestOptions): Promise<HttpResult<T>> { return this.request<T>('PUT', path, body, options); }
  delete<T = any>(path: string, options?: RequestOptions): Promise<HttpResult<T>> { return this.request<T>('DELETE', path, undefined, options); }

  async createWorkflow(def: WorkflowJson): Promise<WorkflowRecord> {
    const res = await this.post<WorkflowRecord>('/api/v1/workflows', def);
    if (res.status !== 201) throw new ApiError(`create workflow "${def.name}" expected 201`, res);
    return res.body;
  }

  async getWorkflow(id: string, version?: number): Promise<WorkflowRecord> {
    const res = await this.get<WorkflowRecord>(`/api/v1/workflows/${encodeURIComponent(id)}${version === undefined ? '' : `?version=${version}`}`);
    if (res.status !== 200) throw new ApiError(`get workflow ${id} expected 200`, res);
    return res.body;
  }

  async activate(id: string): Promise<void> {
    const res = await this.post(`/api/v1/workflows/${encodeURIComponent(id)}/activate`);
    if (res.status < 200 || res.status >= 300) throw new ApiError(`activate ${id} expected 2xx`, res);
  }

  async deactivate(id: string): Promise<void> {
    const res = await this.post(`/api/v1/workflows/${encodeURIComponent(id)}/deactivate`);
    if (res.status < 200 || res.status >= 300) throw new ApiError(`deactivate ${id} expected 2xx`, res);
  }

  /** POST …/executions without waiting: 202 with the execution reference {id, executionId, status} */
  async startExecution(workflowId: string, input?: unknown): Promise<string> {
    const res = await this.post<{ id: string; executionId: string; status: string }>(`/api/v1/workflows/${encodeURIComponent(workflowId)}/executions`, { input });
    if (res.status !== 202 || typeof res.body?.id !== 'string' || res.body.executionId !== res.body.id || typeof res.body.status !== 'string') {
      throw new ApiError(`start execution of ${workflowId} expected 202 {id, executionId, status}`, res);
    }
    return res.body.id;
  }

  /** POST …/executions?wait=ms: 200 with the final execution */
  async run(workflowId: string, input?: unknown, waitMs = 15_000): Promise<Execution> {
    const res = await this.post<Execution>(`/api/v1/workflows/${encodeURIComponent(workflowId)}/executions?wait=${waitMs}`, { input }, { timeoutMs: waitMs + 15_000 });
    if (res.status !== 200) throw new ApiError(`run ${workflowId} with ?wait=${waitMs} expected 200`, res);
    return res.body;
  }

  async getExecution(id: string): Promise<Execution> {
    const res = await this.get<Execution>(`/api/v1/executions/${encodeURIComponent(id)}`);
    if (res.status !== 200) throw new ApiError(`get execution ${id} expected 200`, res);
    return res.body;
  }

  /** the whole history, page by page (`{items, nextAfterSeq?}`) */
  async events(id: string): Promise<ExecutionEventRecord[]> {
    const out: ExecutionEventRecord[] = [];
    let after: number | undefined;
    for (;;) {
      const res = await this.get<{ items: ExecutionEventRecord[]; nextAfterSeq?: number }>(`/api/v1/executions/${encodeURIComponent(id)}/events${after === undefined ? '' : `?afterSeq=${after}`}`);
      if (res.status !== 200) throw new ApiError(`events of ${id} expected 200`, res);
      out.push(...listItems<ExecutionEventRecord>(res.body));
      if (typeof res.body.nextAfterSeq !== 'number') return out;
      after = res.body.nextAfterSeq;
    }
  }

  /**
   * Polls GET /executions/:id until `predicate` holds (short interval, overall deadline). Polling is
   * the observable interface here. Fails early when the execution reaches a terminal state that does
   * not satisfy the predicate.
   */
  async waitForExecution(id: string, predicate: (e: Execution) => boolean, options: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<Execution> {
    const deadline = Date.now() + (options.timeoutMs ?? 20_000);
    const what = options.what ?? 'the condition';
    let last: Execution | undefined;
    for (;;) {
      const res = await this.get<Execution>(`/api/v1/executions/${encodeURIComponent(id)}`);
      if (res.status === 200) {
        last = res.body;
        if (predicate(last)) return last;
        if (TERMINAL.includes(last.status)) throw new Error(`execution ${id} ended ${last.status} without ${what}: ${JSON.stringify(last).slice(0, 4000)}`);
      } else if (res.status !== 404) {
        throw new ApiError(`polling execution ${id}`, res);
      }
      if (Date.now() > deadline) throw new Error(`execution ${id}: no ${what} within ${options.timeoutMs ?? 20_000} ms; last seen: ${JSON.stringify(last).slice(0, 4000)}`);
      await sleep(options.intervalMs ?? 50);
    }
  }

  async waitForStatus(id: string, status: Execution['status'] | ReadonlyArray<Execution['status']>, options: { timeoutMs?: number; intervalMs?: number } = {}): Promise<Execution> {
    const wanted: ReadonlyArray<Execution['status']> = typeof status === 'string' ? [status] : status;
    return this.waitForExecution(id, (e) => wanted.includes(e.status), { ...options, what: `status ${wanted.join('|')}` });
  }
}

/** The items of a list response: exactly the documented `{items: [...]}` (a page); any other shape fails. */
export function listItems<T = any>(body: unknown): T[] {
  if (body && typeof body === 'object' && !Array.isArray(body) && Array.isArray((body as { items?: unknown }).items)) return (body as { items: T[] }).items;
  throw new Error(`not a list response {items: [...]}: ${JSON.stringify(body).slice(0, 500)}`);
}

/** `nextCursor` of a page (`{items, nextCursor?}`): a non-empty string, or absent on the last page. */
export function nextCursorOf(body: unknown): string | undefined {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new Error(`not a page: ${JSON.stringify(body).slice(0, 500)}`);
  const c = (body as Record<string, unknown>).nextCursor;
  if (c === undefined) return undefined;
  if (typeof c !== 'string' || c.length === 0) throw new Error(`nextCursor must be a non-empty string or absent: ${JSON.stringify(c)}`);
  return c;
}

export interface Problem {
  code: string;
  message: string;
  path: string;
  nodeId?: string;
  nodes?: string[];
  [k: string]: unknown;
}

/** The validation problems of a 400 VALIDATION_FAILED body: `error.details`, a list (the documented shape only). */
export function problemsOf(body: unknown): Problem[] {
  const error = (body as ErrorBody | undefined)?.error;
  if (error?.code !== 'VALIDATION_FAILED' || !Array.isArray(error.details)) {
    throw new Error(`not a VALIDATION_FAILED error with a list of problems in error.details: ${JSON.stringify(body).slice(0, 2000)}`);
  }
  return error.details as Problem[];
}

/** A problem's JSON path, `$.nodes[1].params.ms` (the one notation the API uses) → ['nodes','1','params','ms']. */
export function pathTokens(p: string): string[] {
  if (!/^\$(\.[A-Za-z_][A-Za-z0-9_-]*|\[\d+\])*$/.test(p)) throw new Error(`not a JSON path of the form $.a[0].b: ${JSON.stringify(p)}`);
  return p.match(/[A-Za-z_][A-Za-z0-9_-]*|\d+/g) ?? [];
}

/** Whether `body` is our error shape `{error: {code, message, details?}}`. */
export function isErrorShape(body: unknown): body is ErrorBody {
  if (!body || typeof body !== 'object') return false;
  const e = (body as Record<string, unknown>).error as Record<string, unknown> | undefined;
  return !!e && typeof e === 'object' && typeof e.code === 'string' && e.code.length > 0 && typeof e.message === 'string';
}

export function nodeRun(execution: Execution, nodeId: string): NodeRun {
  const run = execution.nodeRuns?.find((r) => r.nodeId === nodeId);
  if (!run) throw new Error(`execution ${execution.id} has no node run for "${nodeId}": ${JSON.stringify(execution.nodeRuns?.map((r) => `${r.nodeId}:${r.status}`))}`);
  return run;
}

/** Status of every node run, by node id (compact for assertions and messages). */
export function statuses(execution: Execution): Record<string, string> {
  return Object.fromEntries((execution.nodeRuns ?? []).map((r) => [r.nodeId, r.status]));
}

/** Epoch ms of a timestamp the API gives as a number or an ISO string. */
export function toMs(value: number | string | undefined): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const n = Date.parse(value);
    if (!Number.isNaN(n)) return n;
  }
  return Number.NaN;
}
