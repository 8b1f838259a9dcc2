import { NodeError } from '../errors.js';
import { type AppendOnlyLog, type AppendOptions, LOG_READ_MAX, logStreamProblem, type PluginState } from '../node.js';

/** In-memory PluginState (with its append-only logs) for tests and the runNode() harness. Values are copied like JSON would. */
export class MemoryPluginState implements PluginState {
  readonly data = new Map<string, unknown>();
  /** the append-only logs by stream name */
  readonly logs = new Map<string, unknown[]>();
  async get<T>(key: string): Promise<T | undefined> {
    const v = this.data.get(key);
    return v === undefined ? undefined : (structuredClone(v) as T);
  }
  async set(key: string, value: unknown): Promise<void> {
    this.data.set(key, structuredClone(value));
  }
  async delete(key: string): Promise<void> {
    this.data.delete(key);
  }
  async list<T>(prefix: string, options: { limit?: number; after?: string } = {}): Promise<Array<{ key: string; value: T }>> {
    const keys = [...this.data.keys()].filter((k) => k.startsWith(prefix) && (options.after === undefined || k > options.after)).sort();
    return keys.slice(0, options.limit ?? keys.length).map((key) => ({ key, value: structuredClone(this.data.get(key)) as T }));
  }
  async update<T>(key: string, fn: (current: T | undefined) => T | undefined): Promise<T | undefined> {
    const next = fn(await this.get<T>(key));
    if (next === undefined) this.data.delete(key);
    else this.data.set(key, structuredClone(next));
    return next;
  }
  log<T = unknown>(stream: string): AppendOnlyLog<T> {
    const problem = logStreamProblem(stream);
    if (problem) throw new NodeError(problem, 'INVALID_LOG_STREAM');
    const entries = (): unknown[] => this.logs.get(stream) ?? (this.logs.set(stream, []), this.logs.get(stream)!);
    return {
      append: async (values: readonly T[], options: AppendOptions = {}) => {
        const log = entries();
        if (options.expectedLength !== undefined && options.expectedLength !== log.length) {
          throw new NodeError(`log "${stream}" holds ${log.length} entries, not the expected ${options.expectedLength}`, 'LOG_CONFLICT');
        }
        const copies = structuredClone(values) as unknown[];
        const checkpoint = options.checkpoint ? (structuredClone(options.checkpoint) as Record<string, unknown>) : {};
        log.push(...copies);
        for (const [k, v] of Object.entries(checkpoint)) this.data.set(k, v);
        return log.length;
      },
      read: async ({ from = 0, limit = 1000 } = {}) => {
        const log = entries();
        const start = Math.max(0, Math.trunc(from));
        const n = Math.min(Math.max(0, Math.trunc(limit)), LOG_READ_MAX);
        return log.slice(start, start + n).map((value, i) => ({ pos: start + i, value: structuredClone(value) as T }));
      },
      length: async () => entries().length,
    };
  }
}
