import type { NodeLogger, PluginState } from '@anchorflow/plugin-sdk';
import { type Interface, getAddress } from 'ethers';
import { jsonValue, parseEventSpec } from './events.js';
import { LogReader, migrateLegacyLog } from './log-store.js';
import {
  type AlertEntry,
  alertKey,
  type Cursor,
  cursorKey,
  type EventEntry,
  type LogEntry,
  type Registration,
  type RetractEntry,
  TOKENS_PREFIX,
} from './model.js';
import { type FailoverRpc, isLimitError } from './rpc.js';

export interface FollowerTuning {
  /** largest eth_getLogs block range */
  maxRange: number;
  /** how many recent block hashes are kept (reorgs deeper than this cannot be rolled back) */
  recentBlocks: number;
}

interface RpcBlock {
  number: string;
  hash: string;
  parentHash: string;
  timestamp: string;
}
interface RpcLog {
  address: string;
  topics: string[];
  data: string;
  blockNumber: string;
  blockHash: string;
  transactionHash: string;
  transactionIndex: string;
  logIndex: string;
}

export interface StepResult {
  head: number;
  block: number;
  /** events appended by this step */
  events: number;
  /** true when a reorg was rolled back */
  reorg: boolean;
  /** true when the cursor reached the head */
  caughtUp: boolean;
}

interface Fetched {
  logs: RpcLog[];
  headers: Map<number, RpcBlock>;
}

/** ranges read ahead of the one being written during a backfill */
const READ_AHEAD = 2;

/** the chain changed under a step; the next step starts with reorg detection */
class ChainMoved extends Error {}

const hex = (n: number): string => `0x${n.toString(16)}`;
const num = (h: string): number => Number.parseInt(h, 16);

/**
 * Follows one observer: reads logs by block range from a persisted cursor, appends them to the
 * observer's log, detects reorgs by stored block hashes and rolls back to the common ancestor with
 * retraction entries. One `step()` does one unit of work; the service loops over steps.
 * Only one follower per observer may run at a time (the service is one-per-cluster).
 */
export class Follower {
  private readonly iface: Interface;
  private readonly topics: string[];
  private readonly reader: LogReader;
  private cursor: Cursor | undefined;
  private migrated = false;
  /** the next ranges, read ahead during a backfill, in order */
  private prefetched: Array<{ from: number; to: number; data: Promise<Fetched> }> = [];
  /** the names of the standard Transfer's inputs (from, to, value or as the fragment names them) */
  private readonly transferNames: string[] = [];
  private range: number;
  private chainId: number | undefined;
  private readonly decimals = new Map<string, number | null>();
  /** lowercase → checksummed (getAddress hashes; the same few addresses repeat a lot) */
  private readonly addresses = new Map<string, string>();
  /** topic0 of the standard ERC-20 Transfer when the observer follows it: decoded without ethers */
  private readonly transferTopic: string | undefined;

  constructor(
    readonly reg: Registration,
    private readonly rpc: FailoverRpc,
    private readonly state: PluginState,
    private readonly logger: NodeLogger,
    private readonly tuning: FollowerTuning,
    private readonly now: () => number,
  ) {
    this.iface = parseEventSpec(reg.event);
    this.topics = [];
    this.iface.forEachEvent((e) => this.topics.push(e.topicHash));
    this.reader = new LogReader(state, reg.id);
    this.range = tuning.maxRange;
    const transfer = this.iface.getEvent('Transfer');
    if (transfer) this.transferNames.push(...transfer.inputs.map((i) => i.name));
    this.transferTopic = transfer && transfer.format('sighash') === 'Transfer(address,address,uint256)' && transfer.inputs[0]!.indexed && transfer.inputs[1]!.indexed && !transfer.inputs[2]!.indexed ? transfer.topicHash : undefined;
  }

  get currentRange(): number {
    return this.range;
  }

  async step(): Promise<StepResult> {
    this.chainId ??= num(await this.rpc.call<string>('eth_chainId', []));
    if (!this.migrated) {
      const moved = await migrateLegacyLog(this.state, this.reg.id);
      if (moved) this.logger.info('moved the observer log from plugin state into the append-only log', { observer: this.reg.id, entries: moved });
      this.migrated = true;
    }
    this.cursor ??= await this.reader.cursor();
    const head = num(await this.rpc.call<string>('eth_blockNumber', []));
    const cur = this.cursor;
    const from = cur ? cur.block + 1 : this.reg.startBlock;
    const to = Math.min(head, from + this.range - 1);
    // the range is read while the stored cursor block is checked (a reorg discards it)
    const fetching = from <= head ? this.fetchRange(from, to, head) : undefined;
    fetching?.catch(() => undefined);
    if (cur) {
      const block = await this.block(cur.block);
      if (!block || block.hash !== cur.hash) {
        this.prefetched = [];
        await this.rollback(head);
        return { head, block: this.cursor!.block, events: 0, reorg: true, caughtUp: false };
      }
    }
    if (!fetching) return { head, block: cur?.block ?? from - 1, events: 0, reorg: false, caughtUp: true };
    let fetched: Fetched;
    try {
      fetched = await fetching;
    } catch (err) {
      if (isLimitError(err) && this.range > 1) {
        this.range = Math.max(1, Math.floor(this.range / 2));
        this.logger.info('eth_getLogs refused the range; shrinking', { observer: this.reg.id, range: this.range, error: (err as Error).message });
        return { head, block: cur?.block ?? from - 1, events: 0, reorg: false, caughtUp: false };
      }
      if (err instanceof ChainMoved) return { head, block: cur?.block ?? from - 1, events: 0, reorg: false, caughtUp: false };
      throw err;
    }
    if (this.range < this.tuning.maxRange) this.range = Math.min(this.tuning.maxRange, this.range * 2);
    // behind the head by more than a range: the next range is read while this one is decoded and
    // written (the backfill waits on the RPC node and on the database in turn otherwise). It is used only
    // if the next step asks for exactly that range; append() checks that it continues the chain this one
    // ends; and the headers it read near the head (by this head) are a superset of what a later head needs.
    // Up to READ_AHEAD ranges are in flight: the RPC node answers one while another is parsed.
    for (let last = this.prefetched.at(-1)?.to ?? to; this.prefetched.length < READ_AHEAD; ) {
      const nextFrom = last + 1;
      const nextTo = nextFrom + this.range - 1;
      if (nextTo > head) break;
      const data = this.load(nextFrom, nextTo, head);
      data.catch(() => undefined);
      this.prefetched.push({ from: nextFrom, to: nextTo, data });
      last = nextTo;
    }
    try {
      const appended = await this.append(from, to, fetched);
      return { head, block: to, events: appended, reorg: false, caughtUp: to >= head };
    } catch (err) {
      if (err instanceof ChainMoved) {
        this.prefetched = [];
        return { head, block: cur?.block ?? from - 1, events: 0, reorg: false, caughtUp: false };
      }
      throw err;
    }
  }

  /** the logs and block headers of a range: the one read ahead when it is that range, else read now */
  private fetchRange(from: number, to: number, head: number): Promise<Fetched> {
    const ahead = this.prefetched.shift();
    if (ahead && ahead.from === from && ahead.to === to) return ahead.data;
    this.prefetched = [];
    return this.load(from, to, head);
  }

  private async load(from: number, to: number, head: number): Promise<Fetched> {
    const logs = await this.rpc.call<RpcLog[]>('eth_getLogs', [{ fromBlock: hex(from), toBlock: hex(to), topics: [this.topics], ...(this.reg.contract ? { address: this.reg.contract } : {}) }]);
    if (!Array.isArray(logs)) throw new Error('eth_getLogs answered something that is not a list');
    const nearHead = to > head - this.tuning.recentBlocks;
    const wanted = new Set<number>([from, to]);
    for (const l of logs) wanted.add(num(l.blockNumber));
    if (nearHead) for (let b = Math.max(from, head - this.tuning.recentBlocks + 1); b <= to; b++) wanted.add(b);
    return { logs, headers: await this.headers([...wanted]) };
  }

  private async block(n: number): Promise<RpcBlock | null> {
    const b = await this.rpc.call<RpcBlock | null>('eth_getBlockByNumber', [hex(n), false]);
    if (b !== null && (typeof b !== 'object' || typeof b.hash !== 'string' || typeof b.timestamp !== 'string')) throw new Error(`eth_getBlockByNumber(${n}) answered a malformed block`);
    return b;
  }

  private async headers(blocks: number[]): Promise<Map<number, RpcBlock>> {
    const out = new Map<number, RpcBlock>();
    const queue = [...new Set(blocks)];
    const worker = async (): Promise<void> => {
      for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
        const b = await this.block(n);
        if (!b) throw new ChainMoved(`block ${n} is gone`);
        out.set(n, b);
      }
    };
    await Promise.all(Array.from({ length: Math.min(8, queue.length) }, worker));
    return out;
  }

  private async append(from: number, to: number, { logs, headers }: Fetched): Promise<number> {
    const cur = this.cursor;
    // the range must continue the chain we stored, and every log must belong to the block we read
    if (cur && headers.get(from)!.parentHash !== cur.hash) throw new ChainMoved('parent hash differs');
    for (const l of logs) if (headers.get(num(l.blockNumber))!.hash !== l.blockHash) throw new ChainMoved('log from another fork');
    for (let b = from + 1; b <= to; b++) {
      const h = headers.get(b);
      const p = headers.get(b - 1);
      if (h && p && h.parentHash !== p.hash) throw new ChainMoved('headers from two forks');
    }

    logs.sort((a, b) => num(a.blockNumber) - num(b.blockNumber) || num(a.transactionIndex) - num(b.transactionIndex) || num(a.logIndex) - num(b.logIndex));
    let pos = cur?.nextPos ?? 0;
    const entries: EventEntry[] = [];
    for (const l of logs) {
      const decoded = this.decode(l);
      if (!decoded) continue;
      const block = num(l.blockNumber);
      const entry: EventEntry = {
        kind: 'event',
        pos: pos++,
        id: `${l.transactionHash}:${num(l.logIndex)}`,
        chainId: this.chainId!,
        block,
        blockHash: l.blockHash,
        txIndex: num(l.transactionIndex),
        logIndex: num(l.logIndex),
        txHash: l.transactionHash,
        address: this.checksum(l.address),
        event: decoded.name,
        args: decoded.args,
        timestamp: num(headers.get(block)!.timestamp),
      };
      if (decoded.name === 'Transfer') {
        const d = await this.tokenDecimals(entry.address);
        if (d !== null) entry.decimals = d;
      }
      entries.push(entry);
    }
    const toHash = headers.get(to)!.hash;
    const recent = [...(cur?.recent ?? [])];
    for (const b of [...headers.keys()].sort((a, b) => a - b)) if (b > (cur?.block ?? -1)) recent.push([b, headers.get(b)!.hash]);
    const keepFrom = to - this.tuning.recentBlocks;
    const next: Cursor = { nextPos: pos, block: to, hash: toHash, recent: recent.filter(([b]) => b > keepFrom) };
    await this.commit(cur?.nextPos ?? 0, entries, next);
    return entries.length;
  }

  private checksum(address: string): string {
    const key = address.toLowerCase();
    let out = this.addresses.get(key);
    if (!out) {
      out = getAddress(key);
      if (this.addresses.size > 100_000) this.addresses.clear();
      this.addresses.set(key, out);
    }
    return out;
  }

  private decode(l: RpcLog): { name: string; args: Record<string, string | boolean> } | undefined {
    // the hot path of a backfill: a standard Transfer (from, to indexed; value in data)
    if (this.transferTopic && l.topics.length === 3 && l.topics[0] === this.transferTopic && l.data.length === 66 && /^0x0{24}/.test(l.topics[1]!) && /^0x0{24}/.test(l.topics[2]!)) {
      const names = this.transferNames;
      return { name: 'Transfer', args: { [names[0]!]: this.checksum(`0x${l.topics[1]!.slice(26)}`), [names[1]!]: this.checksum(`0x${l.topics[2]!.slice(26)}`), [names[2]!]: BigInt(l.data).toString() } };
    }
    try {
      const parsed = this.iface.parseLog({ topics: l.topics, data: l.data });
      if (!parsed) return undefined;
      const args: Record<string, string | boolean> = {};
      parsed.fragment.inputs.forEach((input, i) => (args[input.name || `arg${i}`] = jsonValue(parsed.args[i])));
      return { name: parsed.name, args };
    } catch (err) {
      // a log with the same topic but another layout (e.g. an ERC-721 Transfer): not ours
      this.logger.debug('log does not decode with the observer ABI; skipped', { observer: this.reg.id, tx: l.transactionHash, error: (err as Error).message });
      return undefined;
    }
  }

  private async tokenDecimals(token: string): Promise<number | null> {
    const known = this.decimals.get(token);
    if (known !== undefined) return known;
    const key = `${TOKENS_PREFIX}${this.chainId}/${token}`;
    let d = await this.state.get<number | null>(key);
    if (d === undefined) {
      try {
        const out = await this.rpc.call<string>('eth_call', [{ to: token, data: '0x313ce567' }, 'latest']);
        const v = out && out !== '0x' ? Number(BigInt(out)) : NaN;
        d = Number.isInteger(v) && v >= 0 && v <= 255 ? v : null;
      } catch {
        d = null;
      }
      await this.state.set(key, d);
    }
    this.decimals.set(token, d);
    return d;
  }

  /**
   * Appends the entries and moves the cursor in one transaction (the log's checkpoint). The append
   * expects the log to hold exactly what this follower's cursor says: a second follower (split brain)
   * that appended meanwhile makes it fail instead of writing the same positions twice.
   */
  private async commit(expectedLength: number, entries: LogEntry[], next: Cursor): Promise<void> {
    if (entries.length) {
      try {
        await this.reader.log.append(entries, { expectedLength, checkpoint: { [cursorKey(this.reg.id)]: next } });
      } catch (err) {
        if ((err as { code?: string }).code !== 'LOG_CONFLICT') throw err;
        this.cursor = undefined;
        throw new Error(`the log of ${this.reg.id} was appended by another follower (${(err as Error).message}); reloading the cursor`, { cause: err });
      }
    } else {
      await this.state.set(cursorKey(this.reg.id), next);
    }
    this.cursor = next;
  }

  /** Finds the common ancestor, appends retractions (and alerts for confirmed events), moves the cursor back. */
  private async rollback(head: number): Promise<void> {
    const cur = this.cursor!;
    let ancestor: [number, string] | undefined;
    for (const [b, h] of [...cur.recent].reverse()) {
      if (b >= cur.block) continue;
      const chain = await this.block(b);
      if (chain && chain.hash === h) {
        ancestor = [b, h];
        break;
      }
    }
    if (!ancestor) {
      // deeper than the kept hashes: go back before the oldest one we know
      const oldest = Math.max(this.reg.startBlock - 1, (cur.recent[0]?.[0] ?? cur.block) - 1);
      const b = await this.block(Math.max(0, oldest));
      ancestor = [oldest, b?.hash ?? '0x'];
    }
    const [ancestorBlock, ancestorHash] = ancestor;
    const retracted = new Set<number>();
    const active: EventEntry[] = [];
    for await (const page of this.reader.pages()) {
      for (const e of page) {
        if (e.kind === 'event' && e.block > ancestorBlock) active.push(e);
        else if (e.kind !== 'event') retracted.add(e.retracts);
      }
    }
    let pos = cur.nextPos;
    const entries: LogEntry[] = [];
    const at = this.now();
    const alerts: AlertEntry[] = [];
    for (const e of active) {
      if (retracted.has(e.pos)) continue;
      const r: RetractEntry = { kind: 'retract', pos: pos++, retracts: e.pos, id: e.id, block: e.block, ancestor: ancestorBlock };
      entries.push(r);
      // confirmed by the depth the trigger delivers at: it may have started an execution
      if (cur.block - e.block >= this.reg.confirmations) {
        const a: AlertEntry = { kind: 'alert', pos: pos++, type: 'deep-reorg', retracts: e.pos, id: e.id, block: e.block, ancestor: ancestorBlock, depth: cur.block - ancestorBlock, confirmations: this.reg.confirmations, at };
        entries.push(a);
        alerts.push(a);
      }
    }
    const next: Cursor = { nextPos: pos, block: ancestorBlock, hash: ancestorHash, recent: cur.recent.filter(([b]) => b <= ancestorBlock) };
    // alerts first: a crash before the commit repeats the rollback, which writes the same alert keys again
    for (const a of alerts) await this.state.set(alertKey(a.at, this.reg.id, a.pos), { observer: this.reg.id, ...a });
    await this.commit(cur.nextPos, entries, next);
    const log = alerts.length ? this.logger.warn.bind(this.logger) : this.logger.info.bind(this.logger);
    log('reorg rolled back to the common ancestor', { observer: this.reg.id, ancestor: ancestorBlock, depth: cur.block - ancestorBlock, retracted: entries.length - alerts.length, alerts: alerts.length, head });
  }
}
