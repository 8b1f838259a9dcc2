/**
 * Follows the sidecar's SSE stream (`GET /events?start_from=<id>`) and reports each TransactionProcessed.
 * The stream is resumed after every cut from the id after the last one seen, so an event emitted while the
 * client was disconnected is replayed from the sidecar's buffer, not lost. Reading one stream — timeouts,
 * a stream gone silent (not even the `:` keep-alive the sidecar sends every 15 s: half-open TCP), typed
 * errors — is the SDK's `readEventStream`, shared with the payment observer.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { type EventSourceMessage, NodeError, readEventStream, TransientNodeError } from '@anchorflow/plugin-sdk';

export interface ProcessedEvent {
  txHash: string;
  blockHash: string;
  eventId: number;
  /** the execution error (ExecutionResultV2 `error_message`, V1 `Failure`); absent when it succeeded */
  error?: string;
}

/** a `BlockAdded` event: the block's hash, height, parent and RFC 3339 timestamp (Version1 or Version2 block) */
export interface BlockAddedEvent {
  blockHash: string;
  height: number;
  parentHash: string;
  timestamp: string;
  eventId: number;
}

export interface FollowOptions {
  /** the id of the last event already handled: the stream resumes after it; absent = only new events */
  lastEventId?: number;
  onProcessed(ev: ProcessedEvent): void;
  /** each BlockAdded (optional) */
  onBlockAdded?(ev: BlockAddedEvent): void;
  /** every event with an id, after its onProcessed / onBlockAdded: the id a caller may store to resume from */
  onEventId?(id: number): void;
  /** the stream is open (HTTP 200, text/event-stream); `startFrom` is the id it was asked to start from */
  onConnected?(startFrom: number | undefined): void;
  /** the stream was cut, refused or could not be opened; the follower tries again after a backoff */
  onDisconnected?(err: Error): void;
  signal: AbortSignal;
  /** told of every cut and reconnect reason (the follower keeps going) */
  onError?(err: Error): void;
}

export interface FollowerSettings {
  url: string;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  minBackoffMs: number;
  maxBackoffMs: number;
}

const U32 = 2 ** 32;
const HEX64 = /^[0-9a-f]{64}$/;

export async function followSse(settings: FollowerSettings, opts: FollowOptions): Promise<void> {
  const { signal } = opts;
  let last = opts.lastEventId;
  let backoff = settings.minBackoffMs;
  while (!signal.aborted) {
    try {
      const startFrom = last === undefined ? undefined : (last + 1) % U32;
      const url = startFrom === undefined ? settings.url : `${settings.url}${settings.url.includes('?') ? '&' : '?'}start_from=${startFrom}`;
      await readEventStream(url, {
        label: `Casper sidecar SSE (${url})`,
        codePrefix: 'CASPER',
        signal,
        connectTimeoutMs: settings.connectTimeoutMs,
        idleTimeoutMs: settings.idleTimeoutMs,
        onOpen: () => opts.onConnected?.(startFrom),
        onEvent: (msg) => handleMessage(msg, settings.url, opts, (id) => {
          last = id;
          backoff = settings.minBackoffMs;
        }),
        onMalformed: (err) => opts.onError?.(err),
      });
      if (!signal.aborted) {
        const closed = new TransientNodeError(`Casper sidecar SSE (${settings.url}) closed the stream`, 'CASPER_SSE_CLOSED');
        opts.onDisconnected?.(closed);
        opts.onError?.(closed);
      }
    } catch (err) {
      if (signal.aborted) break;
      opts.onDisconnected?.(err as Error);
      if (err instanceof NodeError && !err.retryable) throw err;
      opts.onError?.(err as Error);
    }
    if (signal.aborted) break;
    await delay(backoff, undefined, { signal }).catch(() => undefined); // an abort ends the wait
    backoff = Math.min(backoff * 2, settings.maxBackoffMs);
  }
}

function handleMessage(msg: EventSourceMessage, url: string, opts: FollowOptions, seen: (id: number) => void): void {
  let data: any;
  try {
    data = JSON.parse(msg.data);
  } catch {
    opts.onError?.(new TransientNodeError(`Casper sidecar SSE (${url}) sent an event that is not JSON: ${msg.data.slice(0, 120)}`, 'CASPER_BAD_ANSWER'));
    return;
  }
  if (msg.id === undefined || msg.id === '') return; // ApiVersion / SidecarVersion: no id, nothing to resume from
  const id = Number(msg.id);
  if (!Number.isInteger(id) || id < 0 || id >= U32) {
    opts.onError?.(new TransientNodeError(`Casper sidecar SSE (${url}) sent an event id that is not a u32: ${JSON.stringify(msg.id)}`, 'CASPER_BAD_ANSWER'));
    return;
  }
  const tp = data?.TransactionProcessed;
  if (tp) {
    const txHash = String(tp.transaction_hash?.Version1 ?? tp.transaction_hash?.Deploy ?? '').toLowerCase();
    const blockHash = String(tp.block_hash ?? '').toLowerCase();
    if (!HEX64.test(txHash) || !HEX64.test(blockHash)) {
      opts.onError?.(new TransientNodeError(`Casper sidecar SSE (${url}) event ${id}: TransactionProcessed without a valid transaction_hash/block_hash`, 'CASPER_BAD_ANSWER'));
    } else {
      const error = executionError(tp.execution_result);
      opts.onProcessed({ txHash, blockHash, eventId: id, ...(error ? { error } : {}) });
    }
  }
  const ba = data?.BlockAdded;
  if (ba && opts.onBlockAdded) {
    // sse_data_schema.json: BlockAdded {block_hash, block: {Version1: BlockV1} | {Version2: BlockV2}}, header.{height, parent_hash, timestamp}
    const b = ba.block?.Version2 ?? ba.block?.Version1;
    const ev = { blockHash: String(ba.block_hash ?? b?.hash ?? '').toLowerCase(), height: b?.header?.height, parentHash: String(b?.header?.parent_hash ?? '').toLowerCase(), timestamp: b?.header?.timestamp, eventId: id };
    if (!HEX64.test(ev.blockHash) || !Number.isSafeInteger(ev.height) || !HEX64.test(ev.parentHash) || typeof ev.timestamp !== 'string' || Number.isNaN(Date.parse(ev.timestamp))) {
      opts.onError?.(new TransientNodeError(`Casper sidecar SSE (${url}) event ${id}: BlockAdded without a valid block_hash, height, parent_hash and timestamp`, 'CASPER_BAD_ANSWER'));
    } else {
      opts.onBlockAdded(ev as BlockAddedEvent);
    }
  }
  seen(id);
  opts.onEventId?.(id);
}

/** ExecutionResult: {Version2: {error_message: string|null}} (Casper 2.0) or {Version1: {Failure: {error_message}} | {Success}} */
function executionError(result: any): string | undefined {
  const v2 = result?.Version2;
  if (v2 && typeof v2 === 'object') return typeof v2.error_message === 'string' && v2.error_message !== '' ? v2.error_message : undefined;
  const v1 = result?.Version1 ?? result;
  const failure = v1?.Failure;
  if (failure && typeof failure === 'object') return typeof failure.error_message === 'string' ? failure.error_message : 'execution failed';
  return undefined;
}
