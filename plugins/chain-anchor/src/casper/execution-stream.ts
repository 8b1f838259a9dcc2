/**
 * What the Casper driver learns from the sidecar's SSE stream: which transactions were processed (and in
 * which block, with which error), the blocks added (height, timestamp) and so the chain's tip. The stream
 * is followed for the life of the driver and resumed from the last event id after every cut.
 *
 * Continuity ("coverage"): the stream has seen every event since its epoch began. An epoch begins when the
 * stream first connects with nothing to resume from, and again when the ids show a gap (the sidecar no
 * longer had the events asked for). The checkpoint `{lastEventId, epoch}` is stored in plugin state
 * (throttled) only by the driver, after it has consumed what it needs of the events up to that id, so a
 * restart that resumes from the stored id continues the same epoch and misses nothing that matters.
 * A transaction sent (or seen pending) while an epoch was running is "covered" by that epoch: its result
 * will come through the stream, and status polling is not needed. Anything else falls back to polling.
 */
import { randomBytes } from 'node:crypto';
import type { NodeLogger, PluginState } from '@anchorflow/plugin-sdk';
import type { BlockAddedEvent, FollowOptions, ProcessedEvent } from './sse-follower.js';

export interface StreamCheckpoint {
  lastEventId: number;
  epoch: string;
}

export interface ExecutionStreamOptions {
  network: string;
  follow(opts: FollowOptions): Promise<void>;
  state: PluginState;
  logger: NodeLogger;
  now(): number;
  /** told when an event arrives that may move a waiting batch (a processed transaction, a new block) */
  onActivity?(): void;
  /** at most one checkpoint write per this many ms (default 1,000) */
  checkpointEveryMs?: number;
  /** a stream down this long (or failing twice in a row to connect) counts as unavailable (default 5,000) */
  graceMs?: number;
}

const MAX_PROCESSED = 10_000;
const MAX_BLOCKS = 1_000;
const U32 = 2 ** 32;

export const checkpointKey = (network: string) => `sse/${network}`;

export class ExecutionStream {
  private readonly processedByTx = new Map<string, ProcessedEvent>();
  private readonly blocksByHash = new Map<string, BlockAddedEvent>();
  private readonly abort = new AbortController();
  private watched?: string;
  /** the last event id seen (any type) */
  private lastId?: number;
  private storedId?: number;
  private storedAt = -Infinity;
  private _epoch?: string;
  private _tip?: number;
  private connected = false;
  private downSince: number;
  private failuresInARow = 0;
  private started?: Promise<void>;
  private connectWaiters: Array<() => void> = [];

  constructor(private readonly o: ExecutionStreamOptions) {
    this.downSince = o.now();
  }

  /** loads the stored checkpoint and starts following (once) */
  start(): Promise<void> {
    this.started ??= (async () => {
      const cp = await this.o.state.get<StreamCheckpoint>(checkpointKey(this.o.network));
      if (cp && Number.isInteger(cp.lastEventId) && typeof cp.epoch === 'string') {
        this.lastId = cp.lastEventId;
        this.storedId = cp.lastEventId;
        this._epoch = cp.epoch;
      }
      this.o.logger.info('following the Casper sidecar event stream', { event: 'chain.sse.follow', network: this.o.network, ...(this.lastId === undefined ? {} : { resumeAfter: this.lastId }) });
      void this.o
        .follow({
          ...(this.lastId === undefined ? {} : { lastEventId: this.lastId }),
          signal: this.abort.signal,
          onConnected: () => this.connectedNow(),
          onDisconnected: (err) => this.disconnected(err),
          onProcessed: (ev) => this.processed(ev),
          onBlockAdded: (ev) => this.blockAdded(ev),
          onEventId: (id) => this.seen(id),
        })
        .catch((err: unknown) => {
          // refused for good (422/404: a wrong URL): polling carries on alone
          this.connected = false;
          this.failuresInARow = Infinity;
          this.o.logger.warn('Casper sidecar event stream refused; following transactions by polling', { event: 'chain.sse.refused', network: this.o.network, error: (err as Error).message });
          this.wakeWaiters();
        });
    })();
    return this.started;
  }

  /** the current epoch when the stream is covering now, else undefined */
  get epoch(): string | undefined {
    return this.connected ? this._epoch : undefined;
  }

  /** false while the stream works or may come back at once (a cut is resumed in ~100 ms) */
  get unavailable(): boolean {
    if (this.connected) return false;
    return this.failuresInARow >= 2 || this.o.now() - this.downSince > (this.o.graceMs ?? 5_000);
  }

  /** the result of a transaction will come through the stream (it was covered by the running epoch) */
  covers(epoch: string | undefined): boolean {
    return epoch !== undefined && epoch === this._epoch && !this.unavailable;
  }

  /** the highest block height the stream has announced (undefined before the first BlockAdded) */
  get tip(): number | undefined {
    return this.connected ? this._tip : undefined;
  }

  /** resolves once the stream is open, or it is unavailable, or after timeoutMs */
  async ready(timeoutMs: number): Promise<void> {
    await this.start();
    if (this.connected || this.unavailable) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, timeoutMs);
      this.connectWaiters.push(done);
      function done() {
        clearTimeout(t);
        resolve();
      }
    });
  }

  /** keeps this transaction's result even when many others are processed before the driver asks */
  watch(txHash: string | undefined): void {
    this.watched = txHash;
  }

  /** the id up to which events have been taken in: read it BEFORE looking results up, checkpoint it after */
  get position(): number | undefined {
    return this.lastId;
  }

  processedEvent(txHash: string): ProcessedEvent | undefined {
    return this.processedByTx.get(txHash);
  }

  /** drops a result that no longer holds (its block left the chain) */
  forget(txHash: string): void {
    this.processedByTx.delete(txHash);
  }

  block(hash: string): BlockAddedEvent | undefined {
    return this.blocksByHash.get(hash);
  }

  /**
   * Stores `{lastEventId: upTo, epoch}` (at most once per checkpointEveryMs). Call it only once whatever
   * the caller needs from the events up to `upTo` is saved: a restart resumes after it.
   */
  async checkpoint(upTo: number | undefined): Promise<void> {
    if (upTo === undefined || this._epoch === undefined || upTo === this.storedId) return;
    if (this.o.now() - this.storedAt < (this.o.checkpointEveryMs ?? 1_000)) return;
    this.storedAt = this.o.now();
    await this.o.state.set(checkpointKey(this.o.network), { lastEventId: upTo, epoch: this._epoch } satisfies StreamCheckpoint);
    this.storedId = upTo;
  }

  close(): void {
    this.abort.abort();
    this.connected = false;
    this.wakeWaiters();
  }

  private connectedNow(): void {
    this.connected = true;
    this.failuresInARow = 0;
    if (this.lastId === undefined) {
      // nothing to resume from: coverage starts now (a result emitted before this moment is polled for)
      this._epoch = randomBytes(8).toString('hex');
    }
    this.wakeWaiters();
    this.o.onActivity?.();
  }

  private disconnected(err: Error): void {
    if (this.connected) this.downSince = this.o.now();
    this.connected = false;
    this.failuresInARow++;
    this.o.logger.debug('Casper sidecar event stream cut; resuming', { event: 'chain.sse.cut', network: this.o.network, error: err.message, resumeAfter: this.lastId });
    if (this.unavailable) this.wakeWaiters();
    this.o.onActivity?.();
  }

  private processed(ev: ProcessedEvent): void {
    this.processedByTx.delete(ev.txHash);
    this.processedByTx.set(ev.txHash, ev);
    if (this.processedByTx.size > MAX_PROCESSED) {
      for (const k of this.processedByTx.keys()) {
        if (this.processedByTx.size <= MAX_PROCESSED) break;
        if (k !== this.watched) this.processedByTx.delete(k);
      }
    }
    if (ev.txHash === this.watched) this.o.onActivity?.();
  }

  private blockAdded(ev: BlockAddedEvent): void {
    this.blocksByHash.set(ev.blockHash, ev);
    if (this.blocksByHash.size > MAX_BLOCKS) this.blocksByHash.delete(this.blocksByHash.keys().next().value!);
    if (this._tip === undefined || ev.height > this._tip) this._tip = ev.height;
    if (this.watched) this.o.onActivity?.();
  }

  private seen(id: number): void {
    if (this.lastId !== undefined && id !== (this.lastId + 1) % U32) {
      // the sidecar did not have every event after the last one seen (its buffer moved on): a new epoch
      this._epoch = randomBytes(8).toString('hex');
      this.o.logger.warn('Casper sidecar event stream skipped events; in-flight transactions are checked by polling', { event: 'chain.sse.gap', network: this.o.network, after: this.lastId, got: id });
    }
    this.lastId = id;
  }

  private wakeWaiters(): void {
    for (const w of this.connectWaiters.splice(0)) w();
  }
}
