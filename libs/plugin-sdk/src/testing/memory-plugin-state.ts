import type { PluginState } from '../node.js';

/** In-memory PluginState for tests and the runNode() harness. Values are copied like JSON would. */
export class MemoryPluginState implements PluginState {
  readonly data = new Map<string, unknown>();
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
}
