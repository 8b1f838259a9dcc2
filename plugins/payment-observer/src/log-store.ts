import type { AppendOnlyLog, PluginState } from '@anchorflow/plugin-sdk';
import { type Chunk, type Cursor, cursorKey, type LogEntry, logPrefix, logStream } from './model.js';

/** entries per read of the log */
export const PAGE = 5_000;

/** Reads an observer's append-only log (the SDK's PluginState.log). */
export class LogReader {
  readonly log: AppendOnlyLog<LogEntry>;

  constructor(
    private readonly state: PluginState,
    readonly id: string,
  ) {
    this.log = state.log<LogEntry>(logStream(id));
  }

  /** pages of entries with pos >= fromPos, in order */
  async *pages(fromPos = 0, page = PAGE): AsyncGenerator<LogEntry[]> {
    let from = fromPos;
    for (;;) {
      const rows = await this.log.read({ from, limit: page });
      if (rows.length) yield rows.map((r) => r.value);
      if (rows.length < page) return;
      from = rows[rows.length - 1]!.pos + 1;
    }
  }

  /** entries with pos >= fromPos, up to limit */
  async entries(fromPos = 0, limit = Number.MAX_SAFE_INTEGER): Promise<LogEntry[]> {
    const out: LogEntry[] = [];
    for await (const page of this.pages(fromPos, Math.min(PAGE, limit))) {
      for (const e of page) {
        out.push(e);
        if (out.length >= limit) return out;
      }
    }
    return out;
  }

  async cursor(): Promise<Cursor | undefined> {
    return this.state.get<Cursor>(cursorKey(this.id));
  }
}

/**
 * Moves a log kept by the first release (write-once chunks `obs/<id>/log/<seq>` in plugin state) into the
 * append-only log, keeping every position, so delivery positions, the events REST cursor and the replay
 * hash stay the same. The cursor is repaired from the newest chunk as that release did (a crash between
 * its chunk and its cursor), and written with the entries. Idempotent: entries already moved are not
 * appended again, and the chunks are deleted only afterwards, so a crash anywhere just repeats it.
 * Answers how many entries it moved.
 */
export async function migrateLegacyLog(state: PluginState, id: string): Promise<number> {
  const chunks: Array<{ key: string; value: Chunk }> = [];
  let after: string | undefined;
  for (;;) {
    const rows = await state.list<Chunk>(logPrefix(id), { limit: 200, ...(after ? { after } : {}) });
    chunks.push(...rows);
    if (rows.length < 200) break;
    after = rows[rows.length - 1]!.key;
  }
  if (!chunks.length) return 0;
  const log = state.log<LogEntry>(logStream(id));
  const length = await log.length();
  const entries = chunks.flatMap((c) => c.value.entries).filter((e) => e.pos >= length);
  for (const [i, e] of entries.entries()) if (e.pos !== length + i) throw new Error(`observer ${id}: the old log has a gap at position ${length + i}; not moved`);
  const last = chunks[chunks.length - 1]!.value;
  let cursor = await state.get<Cursor>(cursorKey(id));
  if (!cursor || (cursor.seq ?? 0) < last.seq) {
    const recent = (cursor?.recent ?? []).filter(([b]) => b < last.fromBlock);
    recent.push([last.toBlock, last.toHash]);
    cursor = { nextPos: last.firstPos + last.entries.length, block: last.toBlock, hash: last.toHash, recent };
  }
  const { seq: _seq, ...moved } = cursor;
  await log.append(entries, { expectedLength: length, checkpoint: { [cursorKey(id)]: moved } });
  for (const c of chunks) await state.delete(c.key);
  return entries.length;
}
