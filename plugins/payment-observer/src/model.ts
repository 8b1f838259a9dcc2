/**
 * The observer's durable data:
 * - its append-only log: `ctx.state.log(logStream(id))` (the SDK's append-only log; on PostgreSQL the
 *   `plugin_log` table): entries at positions 0, 1, 2, …, events ordered by (block, txIndex, logIndex)
 *   within an ingestion step; an entry is written once and never changed. Each entry's `pos` is its position.
 * - in plugin state (`reg/<observerId>`: the registration the trigger writes; the rest under `obs/<observerId>/`):
 *   - `cursor`: the last ingested block, its hash and the recent block hashes (reorg detection), written in
 *     the same transaction as the entries it covers (the log's checkpoint), so a crash never splits them
 *   - `delivered`: the next log position the trigger has not handled yet
 *   - `status`: progress for GET /api/v1/observers (head, behind, events/s, last error)
 *   - `log/<seq:12>`: the log as chunks, as the first release kept it; moved into the log on first use
 *     (see migrateLegacyLog)
 */
export const OBS_PREFIX = 'obs/';
export const ALERTS_PREFIX = 'alerts/';
export const TOKENS_PREFIX = 'tokens/';

export const REG_PREFIX = 'reg/';
export const regKey = (id: string): string => `reg/${id}`;
/** the name of the observer's append-only log */
export const logStream = (id: string): string => `obs/${id}`;
/** where the first release kept the log (chunks in plugin state) */
export const logPrefix = (id: string): string => `obs/${id}/log/`;
export const chunkKey = (id: string, seq: number): string => `obs/${id}/log/${String(seq).padStart(12, '0')}`;
export const cursorKey = (id: string): string => `obs/${id}/cursor`;
export const deliveredKey = (id: string): string => `obs/${id}/delivered`;
export const statusKey = (id: string): string => `obs/${id}/status`;
export const alertKey = (at: number, id: string, pos: number): string => `alerts/${String(at).padStart(15, '0')}/${id}/${pos}`;

export interface Registration {
  id: string;
  /** absent: an EVM observer (payments.trigger.evm); 'casper': payments.trigger.casper */
  chain?: 'casper';
  /** Casper: the watched recipients, normalised (`account-hash-<hex>` or `uref-<hex>`, access rights dropped) */
  watch?: string[];
  /** Casper: the sidecar event id to start from (inclusive) when there is no cursor yet; absent = new events only */
  startEventId?: number;
  workflowId: string;
  nodeId: string;
  network: string;
  contract?: string;
  /** the normalised event spec: 'erc20.Transfer', 'x402.Flow' or an ABI event fragment (human-readable) */
  event: string;
  confirmations: number;
  startBlock: number;
  registeredAt: number;
  /**
   * set while the workflow's trigger source runs (a token of that run); the follower follows only these.
   * Deactivating the workflow stops the source, which clears it; the next run (reactivation, another
   * daemon taking over) sets its own.
   */
  activeBy?: string;
}

export interface EventEntry {
  kind: 'event';
  pos: number;
  /** `${txHash}:${logIndex}` — the identity of the log on its chain (Casper: `${txHash}:${transferIndex}`) */
  id: string;
  /** EVM: the chain id; Casper: the chain name (`casper`, `casper-test`, …) */
  chainId: number | string;
  block: number;
  blockHash: string;
  txIndex: number;
  logIndex: number;
  txHash: string;
  address: string;
  /** event name (Transfer, FlowStarted, ...) */
  event: string;
  /** decoded arguments by name; integers as decimal strings, bytes as 0x hex */
  args: Record<string, string | boolean>;
  /** block timestamp, seconds since epoch */
  timestamp: number;
  /** token decimals when the event is an ERC-20 Transfer */
  decimals?: number;
}

export interface RetractEntry {
  kind: 'retract';
  pos: number;
  /** pos of the event entry retracted */
  retracts: number;
  id: string;
  block: number;
  /** the common ancestor the log rolled back to */
  ancestor: number;
}

export interface AlertEntry {
  kind: 'alert';
  pos: number;
  type: 'deep-reorg';
  /** the retracted event that had already reached the confirmation depth (it may have been delivered) */
  retracts: number;
  id: string;
  block: number;
  ancestor: number;
  depth: number;
  confirmations: number;
  /** engine clock when detected (epoch ms) */
  at: number;
}

export type LogEntry = EventEntry | RetractEntry | AlertEntry;

/** a chunk of the first release's log in plugin state (read only to move it into the log) */
export interface Chunk {
  seq: number;
  /** pos of entries[0] (equal to the previous chunk's firstPos + entries.length) */
  firstPos: number;
  /** blocks this chunk covers; after a rollback toBlock is the ancestor (fromBlock = toBlock + 1) */
  fromBlock: number;
  toBlock: number;
  toHash: string;
  entries: LogEntry[];
}

export interface Cursor {
  /** chunk sequence of the first release's layout (absent since the log is a table) */
  seq?: number;
  /** the log's length when this cursor was written (the next entry's position) */
  nextPos: number;
  block: number;
  hash: string;
  /** [block, hash] of recent blocks, ascending */
  recent: Array<[number, string]>;
  /** Casper: the id of the last sidecar event whose effects are in the log (the stream resumes after it) */
  lastEventId?: number;
}

export interface ObserverStatus {
  id: string;
  network: string;
  chainId?: number | string;
  head?: number;
  block?: number;
  behind?: number;
  startBlock: number;
  eventsPerSecond?: number;
  events: number;
  rpcUrl?: string;
  range?: number;
  lastError?: string;
  updatedAt: number;
}
