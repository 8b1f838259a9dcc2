/**
 * Casper payments: native CSPR transfers to watched accounts or purses, read from the sidecar's SSE
 * stream (`GET <sidecarUrl>/events?start_from=<id>`) and appended to the observer's log in the same
 * shape as EVM events, so delivery (confirmations, dedupe key, filters), replay and the REST read side
 * are the same.
 *
 * - `BlockAdded` moves the observer's block (height, hash, recent hashes); each block must continue the
 *   last one (`parent_hash`). Casper blocks are final when the sidecar announces them, so there is no
 *   rollback: a block that does not continue the chain stops ingestion with an error in the status (and
 *   the stream is retried from the same event) rather than guessing.
 * - `TransactionProcessed` with `execution_result.Version2.transfers` (casper-types 5 `TransferV2`,
 *   parsed by casper-js-sdk): every transfer whose recipient account (`to`) or target purse is watched
 *   becomes one log entry `{txHash}:{transferIndex}`; a block not seen on the stream yet is read with
 *   `chain_get_block` from the sidecar's JSON-RPC (its height and timestamp).
 * - The id of the last event whose effects are in the log is committed with them (the log's checkpoint),
 *   so a restart resumes after it: nothing lost, nothing appended twice.
 */
import casper from 'casper-js-sdk';
import { setTimeout as delay } from 'node:timers/promises';
import { type EventSourceMessage, type NodeLogger, type PluginState, readEventStream } from '@anchorflow/plugin-sdk';
import { LogReader } from './log-store.js';
import { CSPR_DECIMALS } from './casper-target.js';
import { type Cursor, cursorKey, type EventEntry, type Registration } from './model.js';
import { FailoverRpc, RpcAnswerError, type RpcParams } from './rpc.js';

const { Transfer } = casper;
const U32 = 2 ** 32;
const HEX64 = /^[0-9a-f]{64}$/;

export interface CasperNetworkConfig {
  /** the sidecar's base URL: SSE at `/events`, JSON-RPC at `/rpc` */
  sidecarUrl: string;
}

export interface CasperTuning {
  recentBlocks: number;
  /** a stream that sends nothing (not even the sidecar's 15 s keep-alive) this long is treated as cut */
  idleTimeoutMs: number;
  rpcTimeoutMs: number;
}

const purseOf = (uref: string): string => uref.toLowerCase().replace(/-[0-7]{3}$/, '');

interface BlockInfo {
  height: number;
  hash: string;
  parentHash: string;
  /** seconds since epoch */
  timestamp: number;
}

/** the header of a `BlockAdded` block or a `chain_get_block` block (Version2 or Version1 JSON) */
function blockInfo(json: any): BlockInfo | undefined {
  const b = json?.Version2 ?? json?.Version1 ?? json;
  const h = b?.header;
  const hash = String(b?.hash ?? '').toLowerCase();
  if (!h || !HEX64.test(hash) || !Number.isInteger(h.height) || typeof h.timestamp !== 'string') return undefined;
  const ms = Date.parse(h.timestamp);
  if (Number.isNaN(ms)) return undefined;
  return { height: h.height, hash, parentHash: String(h.parent_hash ?? '').toLowerCase(), timestamp: Math.floor(ms / 1000) };
}

/** Follows one Casper observer until `signal` aborts; errors are reported through `onError` and retried with backoff. */
export class CasperFollower {
  private readonly reader: LogReader;
  private readonly watch: Set<string>;
  private readonly blocks = new Map<string, BlockInfo>();
  private chainName: string | undefined;
  private cursor: Cursor | undefined;
  /** the last event id handled (committed or not: events that change nothing are committed with the next change) */
  private lastEventId: number | undefined;
  head: number | undefined;
  events = 0;
  /** set by run(): a JSON-RPC call to the sidecar, ended by the run's signal */
  private rpc: <T>(method: string, params: RpcParams) => Promise<T> = () => Promise.reject(new Error('the Casper follower is not running'));

  constructor(
    readonly reg: Registration,
    private readonly net: CasperNetworkConfig,
    private readonly state: PluginState,
    private readonly logger: NodeLogger,
    private readonly tuning: CasperTuning,
  ) {
    this.reader = new LogReader(state, reg.id);
    this.watch = new Set(reg.watch ?? []);
  }

  get block(): number | undefined {
    return this.cursor?.block;
  }

  async run(signal: AbortSignal, onError: (err: Error) => void, onProgress: () => void): Promise<void> {
    // the sidecar's JSON-RPC (`<sidecarUrl>/rpc`) through the plugin's one JSON-RPC client (rpc.ts), for this run
    const client = new FailoverRpc([`${this.net.sidecarUrl}/rpc`], { timeoutMs: this.tuning.rpcTimeoutMs, signal });
    this.rpc = async <T>(method: string, params: RpcParams): Promise<T> => {
      try {
        return await client.call<T>(method, params);
      } catch (err) {
        if (signal.aborted) throw err;
        const data = err instanceof RpcAnswerError && err.data !== undefined ? ` (${typeof err.data === 'string' ? err.data : JSON.stringify(err.data)})` : '';
        throw new Error(`Casper sidecar: ${(err as Error).message}${data}`, { cause: err });
      }
    };
    let backoff = 500;
    while (!signal.aborted) {
      try {
        this.chainName ??= await this.chainNameOf();
        this.cursor = await this.reader.cursor();
        this.lastEventId = this.cursor?.lastEventId;
        await this.stream(signal, onProgress);
        backoff = 500;
        if (!signal.aborted) onError(new Error(`Casper sidecar SSE (${this.net.sidecarUrl}) closed the stream; reconnecting`));
      } catch (err) {
        if (signal.aborted) return;
        onError(err as Error);
      }
      await delay(backoff, undefined, { signal }).catch(() => undefined); // an abort ends the wait
      backoff = Math.min(backoff * 2, 30_000);
    }
  }

  private async chainNameOf(): Promise<string> {
    const status = await this.rpc<{ chainspec_name?: unknown }>('info_get_status', []);
    if (typeof status?.chainspec_name !== 'string' || !status.chainspec_name) throw new Error('Casper sidecar info_get_status answered without chainspec_name');
    return status.chainspec_name;
  }

  private async stream(signal: AbortSignal, onProgress: () => void): Promise<void> {
    const startFrom = this.lastEventId !== undefined ? (this.lastEventId + 1) % U32 : this.reg.startEventId;
    const url = `${this.net.sidecarUrl}/events${startFrom !== undefined ? `?start_from=${startFrom}` : ''}`;
    let first = true;
    // events are handled one after the other (each may write), in arrival order; a failing one ends the stream
    await readEventStream(url, {
      label: `Casper sidecar SSE (${url})`,
      codePrefix: 'CASPER',
      signal,
      connectTimeoutMs: this.tuning.idleTimeoutMs,
      idleTimeoutMs: this.tuning.idleTimeoutMs,
      onEvent: async (msg) => {
        if (msg.id === undefined || msg.id === '') return; // ApiVersion: nothing to resume from
        const id = Number(msg.id);
        if (first && startFrom !== undefined && id > startFrom) {
          this.logger.warn('the Casper sidecar no longer has the events the observer resumes from: some were missed', { observer: this.reg.id, wanted: startFrom, first: id });
        }
        first = false;
        await this.handle(msg, id);
        onProgress();
      },
      onMalformed: (err) => this.logger.warn(err.message, { observer: this.reg.id }),
    });
  }

  private async handle(msg: EventSourceMessage, id: number): Promise<void> {
    let data: any;
    try {
      data = JSON.parse(msg.data);
    } catch {
      throw new Error(`Casper sidecar SSE event ${id} is not JSON`);
    }
    if (data?.BlockAdded) return this.blockAdded(data.BlockAdded, id);
    if (data?.TransactionProcessed) return this.processed(data.TransactionProcessed, id);
    this.lastEventId = id;
  }

  private async blockAdded(ev: any, id: number): Promise<void> {
    const b = blockInfo(ev.block);
    if (!b) throw new Error(`Casper sidecar SSE event ${id}: BlockAdded without a valid block header`);
    this.remember(b);
    this.head = Math.max(this.head ?? 0, b.height);
    const cur = this.cursor;
    this.lastEventId = id;
    if (cur && b.height <= cur.block) return; // seen before this resume
    if (cur && cur.hash && b.height === cur.block + 1 && b.parentHash !== cur.hash) {
      throw new Error(`Casper block ${b.height} (${b.hash}) does not continue block ${cur.block} (${cur.hash}): its parent is ${b.parentHash}; not ingesting past it`);
    }
    const recent = [...(cur?.recent ?? []), [b.height, b.hash] as [number, string]].slice(-this.tuning.recentBlocks);
    const next: Cursor = { nextPos: cur?.nextPos ?? 0, block: b.height, hash: b.hash, recent, lastEventId: id };
    await this.state.set(cursorKey(this.reg.id), next);
    this.cursor = next;
  }

  private async processed(ev: any, id: number): Promise<void> {
    const txHash = String(ev.transaction_hash?.Version1 ?? ev.transaction_hash?.Deploy ?? '').toLowerCase();
    const blockHash = String(ev.block_hash ?? '').toLowerCase();
    if (!HEX64.test(txHash) || !HEX64.test(blockHash)) throw new Error(`Casper sidecar SSE event ${id}: TransactionProcessed without a valid transaction_hash/block_hash`);
    const result = ev.execution_result?.Version2;
    const transfers: unknown[] = Array.isArray(result?.transfers) && !result.error_message ? result.transfers : [];
    const entries: EventEntry[] = [];
    let pos = this.cursor?.nextPos ?? 0;
    for (const [i, json] of transfers.entries()) {
      let t: InstanceType<typeof Transfer>;
      try {
        t = Transfer.fromJSON(json);
      } catch (err) {
        throw new Error(`Casper sidecar SSE event ${id}: transfer ${i} of ${txHash} does not parse: ${(err as Error).message}`, { cause: err });
      }
      const to = t.to ? t.to.toPrefixedString() : null;
      const target = t.target.toPrefixedString();
      if (!(to && this.watch.has(to)) && !this.watch.has(purseOf(target))) continue;
      const block = this.blocks.get(blockHash) ?? (await this.fetchBlock(blockHash));
      const from = t.from.accountHash ? t.from.accountHash.toPrefixedString() : t.from.publicKey!.accountHash().toPrefixedString();
      entries.push({
        kind: 'event',
        pos: pos++,
        id: `${txHash}:${i}`,
        chainId: this.chainName!,
        block: block.height,
        blockHash,
        txIndex: 0,
        logIndex: i,
        txHash,
        address: 'CSPR',
        event: 'Transfer',
        args: { from, ...(to ? { to } : {}), source: t.source.toPrefixedString(), target, amount: t.amount.toString(), ...(t.id === undefined || t.id === null ? {} : { id: String(t.id) }) },
        timestamp: block.timestamp,
        decimals: CSPR_DECIMALS,
      });
    }
    this.lastEventId = id;
    if (!entries.length) return;
    const cur = this.cursor;
    const next: Cursor = { nextPos: pos, block: cur?.block ?? -1, hash: cur?.hash ?? '', recent: cur?.recent ?? [], lastEventId: id };
    try {
      await this.reader.log.append(entries, { expectedLength: cur?.nextPos ?? 0, checkpoint: { [cursorKey(this.reg.id)]: next } });
    } catch (err) {
      this.cursor = undefined;
      throw err;
    }
    this.cursor = next;
    this.events += entries.length;
  }

  private remember(b: BlockInfo): void {
    this.blocks.set(b.hash, b);
    if (this.blocks.size > 2 * this.tuning.recentBlocks) this.blocks.delete(this.blocks.keys().next().value!);
  }

  private async fetchBlock(hash: string): Promise<BlockInfo> {
    const r = await this.rpc<{ block_with_signatures?: { block?: unknown } }>('chain_get_block', { block_identifier: { Hash: hash } });
    const b = blockInfo(r?.block_with_signatures?.block);
    if (!b) throw new Error(`Casper sidecar chain_get_block(${hash}) answered without a valid block`);
    this.remember(b);
    return b;
  }
}
