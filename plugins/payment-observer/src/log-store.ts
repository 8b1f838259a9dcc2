import type { PluginState } from '@anchorflow/plugin-sdk';
import { type Chunk, chunkKey, type Cursor, cursorKey, type LogEntry, logPrefix } from './model.js';

/** Reads an observer's append-only log from plugin state. */
export class LogReader {
  constructor(
    private readonly state: PluginState,
    readonly id: string,
  ) {}

  /** chunks with seq > afterSeq, in order, in pages */
  async *chunks(afterSeq = 0, page = 200): AsyncGenerator<Chunk> {
    let after = afterSeq > 0 ? chunkKey(this.id, afterSeq) : undefined;
    for (;;) {
      const rows = await this.state.list<Chunk>(logPrefix(this.id), { limit: page, ...(after ? { after } : {}) });
      for (const r of rows) yield r.value;
      if (rows.length < page) return;
      after = rows[rows.length - 1]!.key;
    }
  }

  /** entries with pos >= fromPos, up to limit */
  async entries(fromPos = 0, limit = Number.MAX_SAFE_INTEGER): Promise<LogEntry[]> {
    const out: LogEntry[] = [];
    for await (const c of this.chunks()) {
      if (c.firstPos + c.entries.length <= fromPos) continue;
      for (const e of c.entries) {
        if (e.pos < fromPos) continue;
        out.push(e);
        if (out.length >= limit) return out;
      }
    }
    return out;
  }

  async lastChunk(): Promise<Chunk | undefined> {
    let last: Chunk | undefined;
    // keys are zero-padded: the newest is the last in key order
    for await (const c of this.chunks()) last = c;
    return last;
  }

  /** the cursor, repaired from the newest chunk when a crash came between the chunk and the cursor */
  async cursor(): Promise<Cursor | undefined> {
    const saved = await this.state.get<Cursor>(cursorKey(this.id));
    const last = await this.lastChunk();
    if (!last || (saved && saved.seq >= last.seq)) return saved;
    const recent = (saved?.recent ?? []).filter(([b]) => b < last.fromBlock);
    recent.push([last.toBlock, last.toHash]);
    return { seq: last.seq, nextPos: last.firstPos + last.entries.length, block: last.toBlock, hash: last.toHash, recent };
  }
}
