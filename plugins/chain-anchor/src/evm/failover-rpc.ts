import { FetchRequest, JsonRpcProvider, Network, isError } from 'ethers';

/** The chain said no (revert, nonce, funds): another RPC URL would say the same, so no failover. */
const CHAIN_ANSWERS = new Set(['CALL_EXCEPTION', 'INSUFFICIENT_FUNDS', 'NONCE_EXPIRED', 'REPLACEMENT_UNDERPRICED', 'TRANSACTION_REPLACED', 'INVALID_ARGUMENT']);

export class RpcError extends Error {
  constructor(
    message: string,
    /** true when every URL failed for a reason a later retry may fix (down, timeout, garbage) */
    readonly transient: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RpcError';
  }
}

export interface RpcLogger {
  warn(msg: string, fields?: Record<string, unknown>): void;
}

/**
 * JSON-RPC over several URLs of one network: each call goes to the URL that answered last, and on a
 * network error, a timeout or an answer that fails its parser it moves on to the next one. ethers'
 * providers are used with batchMaxCount 1 and no cache (batching adds latency, the 250 ms cache served
 * stale nonces) and a static network (no detection round trip that retries forever on a dead URL).
 */
export class FailoverRpc {
  private readonly providers: JsonRpcProvider[];
  private current = 0;

  constructor(
    readonly urls: readonly string[],
    chainId: number,
    private readonly timeoutMs: number,
    private readonly logger?: RpcLogger,
  ) {
    if (urls.length === 0) throw new RangeError('at least one RPC URL is needed');
    const network = Network.from(chainId);
    this.providers = urls.map((url) => {
      const req = new FetchRequest(url);
      req.timeout = timeoutMs;
      return new JsonRpcProvider(req, network, { staticNetwork: network, batchMaxCount: 1, cacheTimeout: -1, polling: false });
    });
  }

  /** the URL calls go to now (the last one that answered) */
  get activeUrl(): string {
    return this.urls[this.current];
  }

  async request<T>(method: string, params: unknown[], parse: (raw: unknown) => T): Promise<T> {
    const failures: string[] = [];
    for (let n = 0; n < this.providers.length; n++) {
      const i = (this.current + n) % this.providers.length;
      try {
        const raw = await withTimeout(this.providers[i].send(method, params), this.timeoutMs, `${method} timed out after ${this.timeoutMs} ms`);
        const value = parse(raw);
        if (i !== this.current) {
          this.logger?.warn('RPC failover', { event: 'chain.rpc.failover', from: redactUrl(this.urls[this.current]), to: redactUrl(this.urls[i]), method });
          this.current = i;
        }
        return value;
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code && CHAIN_ANSWERS.has(code)) throw err;
        if (isError(err, 'UNKNOWN_ERROR') && isChainRefusal(err)) throw err;
        failures.push(`${redactUrl(this.urls[i])}: ${shortMessage(err)}`);
      }
    }
    throw new RpcError(`${method} failed on every RPC URL (${failures.join('; ')})`, true);
  }

  destroy(): void {
    for (const p of this.providers) p.destroy();
  }
}

/** a JSON-RPC error object from the node (execution reverted, nonce too low...) rather than transport trouble */
function isChainRefusal(err: unknown): boolean {
  const e = (err as { error?: { code?: number; message?: string } }).error;
  return typeof e?.code === 'number' && e.code !== -32603 && e.code !== -32005;
}

function shortMessage(err: unknown): string {
  const e = err as { shortMessage?: string; message?: string };
  return (e.shortMessage ?? e.message ?? String(err)).slice(0, 200);
}

/** credentials or API keys in an RPC URL's path or query never reach a log line */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname.length > 1 ? '/…' : ''}`;
  } catch {
    return '<invalid url>';
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

// Parsers: an RPC answering garbage is treated like a dead one.
export function hexQuantity(raw: unknown): bigint {
  if (typeof raw !== 'string' || !/^0x[0-9a-fA-F]{1,64}$/.test(raw)) throw new Error(`answered ${JSON.stringify(raw)?.slice(0, 80)}, not a hex quantity`);
  return BigInt(raw);
}

export function hexData(raw: unknown): string {
  if (typeof raw !== 'string' || !/^0x([0-9a-fA-F]{2})*$/.test(raw)) throw new Error(`answered ${JSON.stringify(raw)?.slice(0, 80)}, not hex data`);
  return raw.toLowerCase();
}

export function hash32(raw: unknown): string {
  if (typeof raw !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(raw)) throw new Error(`answered ${JSON.stringify(raw)?.slice(0, 80)}, not a 32-byte hash`);
  return raw.toLowerCase();
}

export interface RpcBlock {
  number: number;
  hash: string;
  parentHash: string;
  timestamp: number;
  baseFeePerGas?: bigint;
}

export function block(raw: unknown): RpcBlock | null {
  if (raw === null) return null;
  const b = raw as Record<string, unknown>;
  if (typeof b !== 'object') throw new Error('answered a block that is not an object');
  return {
    number: Number(hexQuantity(b.number)),
    hash: hash32(b.hash),
    parentHash: hash32(b.parentHash),
    timestamp: Number(hexQuantity(b.timestamp)),
    ...(b.baseFeePerGas !== undefined && b.baseFeePerGas !== null ? { baseFeePerGas: hexQuantity(b.baseFeePerGas) } : {}),
  };
}

export interface RpcLog {
  address: string;
  topics: string[];
  data: string;
}

export interface RpcReceipt {
  transactionHash: string;
  blockNumber: number;
  blockHash: string;
  status: 0 | 1;
  logs: RpcLog[];
}

export function receipt(raw: unknown): RpcReceipt | null {
  if (raw === null) return null;
  const r = raw as Record<string, unknown>;
  if (typeof r !== 'object' || !Array.isArray(r.logs)) throw new Error('answered a receipt without logs');
  return {
    transactionHash: hash32(r.transactionHash),
    blockNumber: Number(hexQuantity(r.blockNumber)),
    blockHash: hash32(r.blockHash),
    status: hexQuantity(r.status) === 1n ? 1 : 0,
    logs: (r.logs as Array<Record<string, unknown>>).map((l) => ({
      address: String(l.address).toLowerCase(),
      topics: (l.topics as unknown[]).map(hash32),
      data: hexData(l.data),
    })),
  };
}

export function nullable<T>(parse: (raw: unknown) => T): (raw: unknown) => T | null {
  return (raw) => (raw === null ? null : parse(raw));
}
