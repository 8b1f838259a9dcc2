/**
 * One Casper client, two adapters: every submit, status and block query goes to the sidecar first (short
 * timeout, it is usually next door) and falls back to the node's own JSON-RPC (longer timeout) when the
 * sidecar is down, slow, answers garbage or has not seen the transaction yet. A definitive answer (the node
 * rejected the transaction) is not asked twice. Execution is learnt from the sidecar's SSE stream
 * (`follow`), resumed from the last event id; `status` is the polling path for whatever the stream missed.
 *
 * Anchoring calls the operator's stored contract entry point
 * `anchor(root: ByteArray(32), batch_id: ByteArray(32), count: U32)` — see plugins/chain-anchor/CASPER.md.
 * Casper 2.0 transactions by default; `legacyDeploys: true` sends a Deploy (StoredContractByHash session,
 * standard payment) for networks or accounts that still need one.
 */
import casper from 'casper-js-sdk';
import type { InfoGetTransactionResult, PrivateKey as SdkPrivateKey, RpcClient as SdkRpcClient } from 'casper-js-sdk';
import { NodeError, TransientNodeError } from '@anchorflow/plugin-sdk';
import { classify, TimedRpcHandler, type AdapterName } from './rpc-transport.js';
import { followSse, type FollowOptions } from './sse-follower.js';

const { RpcClient, PrivateKey, KeyAlgorithm, ContractCallBuilder, Args, CLValue, Deploy } = casper;

export interface CasperClientOptions {
  /** the sidecar's base URL (JSON-RPC at `/rpc`, SSE at `/events`) or its JSON-RPC URL ending in `/rpc` */
  sidecarUrl?: string;
  /** the node's JSON-RPC URL (`/rpc` is appended when the URL has no path) */
  nodeUrl: string;
  chainName: string;
  /** the stored contract exposing `anchor`: 64 hex, optionally prefixed `hash-` or `contract-` */
  contractHash: string;
  /** payment limit per anchor transaction, in motes (decimal string) */
  paymentMotes: string;
  /** send legacy Deploys instead of Casper 2.0 transactions */
  legacyDeploys?: boolean;
  /** default 2,000 ms */
  sidecarTimeoutMs?: number;
  /** default 10,000 ms */
  nodeTimeoutMs?: number;
  /** the SSE stream's URL when it is not `<sidecarUrl>/events` (the sidecar serves SSE on its own port) */
  sseUrl?: string;
  /** a stream silent this long (no event, no keep-alive) is reconnected; default 45,000 ms (3 keep-alives) */
  sseIdleTimeoutMs?: number;
  signer: { privateKeyPem: string; algorithm: 'ed25519' | 'secp256k1' };
  metrics?: { fallback(op: string): void; latency(adapter: 'sidecar' | 'node', op: string, ms: number): void };
}

export type TxStatus =
  | { state: 'pending' }
  | { state: 'processed'; blockHash: string; blockHeight: number; timestamp: string; error?: string };

export interface CasperBlockInfo {
  hash: string;
  height: number;
  parentHash: string;
  timestamp: string;
}

/** a signed anchor call, ready to send (and to send again: the same bytes, the same hash) */
export interface SignedAnchor {
  kind: 'transaction' | 'deploy';
  txHash: string;
  /** the JSON the node receives; store it to resend the very same transaction after a crash */
  json: unknown;
}

interface Adapter {
  name: AdapterName;
  endpoint: string;
  rpc: SdkRpcClient;
  raw: TimedRpcHandler;
}

const HEX64 = /^[0-9a-f]{64}$/;

export class CasperClient {
  private readonly adapters: Adapter[];
  private readonly key: SdkPrivateKey;
  private readonly contractHash: string;
  private readonly payment: number;
  private readonly legacy: boolean;
  private readonly sseUrl: string | undefined;
  private readonly metrics: CasperClientOptions['metrics'];

  constructor(private readonly opts: CasperClientOptions) {
    const problems: string[] = [];
    const nodeRpc = rpcUrl(opts.nodeUrl, 'nodeUrl', problems);
    const sidecarRpc = opts.sidecarUrl === undefined ? undefined : rpcUrl(opts.sidecarUrl, 'sidecarUrl', problems);
    if (typeof opts.chainName !== 'string' || opts.chainName.trim() === '') problems.push('chainName must be the network\'s chain name (e.g. "casper" or "casper-test")');
    const contract = String(opts.contractHash ?? '').toLowerCase().replace(/^(hash-|contract-)/, '');
    if (!HEX64.test(contract)) problems.push(`contractHash must be 64 hex characters (optionally prefixed "hash-"), got ${JSON.stringify(opts.contractHash)}`);
    const payment = /^\d+$/.test(String(opts.paymentMotes ?? '')) ? Number(opts.paymentMotes) : NaN;
    if (!Number.isSafeInteger(payment) || payment <= 0) problems.push(`paymentMotes must be a positive whole number of motes below 2^53, got ${JSON.stringify(opts.paymentMotes)}`);
    for (const k of ['sidecarTimeoutMs', 'nodeTimeoutMs', 'sseIdleTimeoutMs'] as const) {
      const v = opts[k];
      if (v !== undefined && (!Number.isFinite(v) || v <= 0)) problems.push(`${k} must be a positive number of milliseconds, got ${JSON.stringify(v)}`);
    }
    let key: SdkPrivateKey | undefined;
    const algorithm = opts.signer?.algorithm;
    if (algorithm !== 'ed25519' && algorithm !== 'secp256k1') {
      problems.push(`signer.algorithm must be "ed25519" or "secp256k1", got ${JSON.stringify(algorithm)}`);
    } else {
      try {
        key = PrivateKey.fromPem(String(opts.signer.privateKeyPem ?? ''), algorithm === 'ed25519' ? KeyAlgorithm.ED25519 : KeyAlgorithm.SECP256K1);
      } catch (err) {
        problems.push(`signer.privateKeyPem is not a PEM ${algorithm} private key (${(err as Error).message})`);
      }
    }
    if (problems.length > 0) throw new NodeError(`invalid Casper client options: ${problems.join('; ')}`, 'CASPER_BAD_CONFIG', { problems });

    this.key = key!;
    this.contractHash = contract;
    this.payment = payment;
    this.legacy = opts.legacyDeploys === true;
    this.metrics = opts.metrics;
    this.adapters = [];
    const adapter = (name: AdapterName, endpoint: string, timeoutMs: number): Adapter => {
      const raw = new TimedRpcHandler(endpoint, timeoutMs);
      return { name, endpoint, raw, rpc: new RpcClient(raw) };
    };
    if (sidecarRpc) this.adapters.push(adapter('sidecar', sidecarRpc, opts.sidecarTimeoutMs ?? 2_000));
    this.adapters.push(adapter('node', nodeRpc!, opts.nodeTimeoutMs ?? 10_000));
    this.sseUrl = opts.sseUrl ?? (opts.sidecarUrl === undefined ? undefined : `${new URL(opts.sidecarUrl).origin}/events`);
  }

  /** the signer's public key (hex, with its algorithm tag), the account that pays for anchors */
  get publicKey(): string {
    return this.key.publicKey.toHex();
  }

  /** calls the stored contract's `anchor` entry point (root: 32 bytes, batch_id: 32 bytes, count: u32); returns the tx hash (hex, no 0x) */
  async submitAnchor(a: { root: string; batchId: string; count: number }): Promise<{ txHash: string }> {
    return this.submitSigned(this.signAnchor(a));
  }

  /** builds and signs the anchor call without sending it */
  signAnchor(a: { root: string; batchId: string; count: number }): SignedAnchor {
    const root = bytes32(a?.root, 'root');
    const batchId = bytes32(a?.batchId, 'batchId');
    if (!Number.isInteger(a?.count) || a.count < 0 || a.count > 0xffffffff) {
      throw new NodeError(`count must be a u32 (0 … 4294967295), got ${JSON.stringify(a?.count)}`, 'CASPER_BAD_INPUT');
    }
    const builder = new ContractCallBuilder()
      .from(this.key.publicKey)
      .byHash(this.contractHash)
      .entryPoint('anchor')
      .runtimeArgs(Args.fromMap({ root: CLValue.newCLByteArray(root), batch_id: CLValue.newCLByteArray(batchId), count: CLValue.newCLUInt32(a.count) }))
      .chainName(this.opts.chainName)
      .payment(this.payment);
    const tx = this.legacy ? builder.buildFor1_5() : builder.build();
    tx.sign(this.key);
    if (this.legacy) {
      const deploy = tx.getDeploy()!;
      return { kind: 'deploy', txHash: deploy.hash.toHex(), json: Deploy.toJSON(deploy) };
    }
    return { kind: 'transaction', txHash: tx.hash.toHex(), json: tx.toJSON() };
  }

  /**
   * Sends a signed anchor call: sidecar first, the node if the sidecar fails. The same signed bytes go to
   * both, so a sidecar that accepted the transaction and then answered too late cannot cause a second one.
   */
  async submitSigned(signed: SignedAnchor): Promise<{ txHash: string }> {
    // what comes back from storage is checked like the node will check it (hash over the body, every
    // signature): a corrupted record fails here, with no round trip and nothing half-sent
    let parsed: { deploy?: ReturnType<typeof Deploy.fromJSON>; tx?: ReturnType<typeof casper.Transaction.fromJSON> };
    try {
      parsed = signed.kind === 'deploy' ? { deploy: Deploy.fromJSON(signed.json) } : { tx: casper.Transaction.fromJSON(signed.json) };
    } catch (err) {
      throw new NodeError(`signed Casper ${signed.kind} ${signed.txHash} does not verify (${(err as Error).message}): it was altered after signing`, 'CASPER_TX_CORRUPT', { txHash: signed.txHash }, { cause: err });
    }
    const localHash = (parsed.deploy ?? parsed.tx)!.hash.toHex();
    if (localHash !== signed.txHash) {
      throw new NodeError(`signed Casper ${signed.kind} hashes to ${localHash}, not the recorded ${signed.txHash}`, 'CASPER_TX_CORRUPT', { txHash: signed.txHash, localHash });
    }
    let got: string;
    try {
      got = await this.call('submit', async (rpc) => {
        if (parsed.deploy) return (await rpc.putDeploy(parsed.deploy)).deployHash.toHex();
        return (await rpc.putTransaction(parsed.tx!)).transactionHash.toHex();
      });
    } catch (err) {
      // a timeout does not mean the node did not take it: the caller needs the hash to ask before resending
      if (!(err instanceof NodeError)) throw err;
      const Ctor = err.retryable ? TransientNodeError : NodeError;
      throw new Ctor(`${err.message} (transaction ${signed.txHash})`, err.code, { ...(err.details as object), txHash: signed.txHash }, { cause: err });
    }
    if (got.toLowerCase() !== signed.txHash) {
      throw new NodeError(`Casper node acknowledged transaction ${got} but ${signed.txHash} was sent`, 'CASPER_BAD_ANSWER', { sent: signed.txHash, acknowledged: got });
    }
    return { txHash: signed.txHash };
  }

  /**
   * Whether the transaction has been executed, and in which block. A transaction neither adapter knows
   * throws TransientNodeError `CASPER_TX_NOT_FOUND` (never sent, or expired): resend the stored SignedAnchor.
   */
  async status(txHash: string): Promise<TxStatus> {
    const hash = hex32(txHash, 'txHash');
    const res: InfoGetTransactionResult = await this.call('status', async (rpc) =>
      this.legacy ? (await rpc.getDeploy(hash)).toInfoGetTransactionResult() : rpc.getTransactionByTransactionHash(hash));
    const info = res.executionInfo;
    if (!info || !info.blockHash) return { state: 'pending' };
    const blockHash = info.blockHash.toHex();
    const block = await this.block(blockHash);
    if (!block) {
      throw new TransientNodeError(`Casper node says ${hash} executed in block ${blockHash}, which neither adapter can find`, 'CASPER_BLOCK_NOT_FOUND', { txHash: hash, blockHash });
    }
    const error = info.executionResult?.errorMessage;
    return { state: 'processed', blockHash, blockHeight: info.blockHeight, timestamp: block.timestamp, ...(error ? { error } : {}) };
  }

  /**
   * What a transaction (2.0 or legacy deploy) asked for: the stored contract it called by hash, the entry
   * point, and each runtime argument's serialized bytes (hex). Read from the raw JSON
   * (`payload.fields.{target.Stored.id.ByHash, entry_point.Custom, args.Named}`, or a deploy's
   * `session.StoredContractByHash`); undefined for any other kind of call.
   */
  async anchorCall(txHash: string): Promise<AnchorCall | undefined> {
    const hash = hex32(txHash, 'txHash');
    const res = await this.call('status', async (_rpc, raw) => {
      try {
        return await raw.request('info_get_transaction', { transaction_hash: { Version1: hash }, finalized_approvals: false });
      } catch (err) {
        // a legacy deploy is asked for by its own hash kind
        if ((err as { sourceErr?: { code?: unknown } }).sourceErr?.code !== -32014) throw err;
        return raw.request('info_get_transaction', { transaction_hash: { Deploy: hash }, finalized_approvals: false });
      }
    });
    return readAnchorCall(res?.transaction);
  }

  async latestBlockHeight(): Promise<number> {
    const block = await this.call('block', (_rpc, raw) => raw.request('chain_get_block').then((r) => readBlock(r, 'the latest block')));
    if (!block) throw new TransientNodeError('Casper node has no block yet', 'CASPER_BLOCK_NOT_FOUND');
    return block.height;
  }

  /**
   * A block by hash (64 hex) or height; undefined when the chain has no such block. Read from the raw JSON:
   * casper-js-sdk 5.0.12 cannot parse a header whose `last_switch_block_hash` is null, which the schema
   * allows (the first era's blocks). The timestamp is the node's own RFC 3339 string, unchanged.
   */
  async block(hashOrHeight: string | number): Promise<CasperBlockInfo | undefined> {
    let id: { Hash: string } | { Height: number };
    if (typeof hashOrHeight === 'number') {
      if (!Number.isSafeInteger(hashOrHeight) || hashOrHeight < 0) throw new NodeError(`block height must be a whole number ≥ 0, got ${hashOrHeight}`, 'CASPER_BAD_INPUT');
      id = { Height: hashOrHeight };
    } else {
      id = { Hash: hex32(hashOrHeight, 'block hash') };
    }
    try {
      return await this.call('block', (_rpc, raw) => raw.request('chain_get_block', { block_identifier: id }).then((r) => readBlock(r, JSON.stringify(id))));
    } catch (err) {
      if (err instanceof NodeError && err.code === 'CASPER_BLOCK_NOT_FOUND') return undefined;
      throw err;
    }
  }

  /** follows the sidecar SSE stream, resuming from lastEventId; calls onProcessed for each TransactionProcessed; resolves when `signal` aborts */
  async follow(opts: FollowOptions): Promise<void> {
    if (!this.sseUrl) throw new NodeError('follow() needs the sidecar\'s SSE stream: configure sidecarUrl (or sseUrl)', 'CASPER_BAD_CONFIG');
    if (opts.lastEventId !== undefined && (!Number.isInteger(opts.lastEventId) || opts.lastEventId < 0 || opts.lastEventId >= 2 ** 32)) {
      throw new NodeError(`lastEventId must be a u32 event id, got ${JSON.stringify(opts.lastEventId)}`, 'CASPER_BAD_INPUT');
    }
    await followSse({
      url: this.sseUrl,
      connectTimeoutMs: this.opts.sidecarTimeoutMs ?? 2_000,
      idleTimeoutMs: this.opts.sseIdleTimeoutMs ?? 45_000,
      minBackoffMs: 100,
      maxBackoffMs: 5_000,
    }, opts);
  }

  /** one operation: each adapter in turn until one gives an answer worth keeping */
  private async call<T>(op: string, fn: (rpc: SdkRpcClient, raw: TimedRpcHandler) => Promise<T>): Promise<T> {
    const failures: string[] = [];
    for (let i = 0; i < this.adapters.length; i++) {
      const ad = this.adapters[i]!;
      const started = performance.now();
      try {
        const result = await fn(ad.rpc, ad.raw);
        this.metrics?.latency(ad.name, op, performance.now() - started);
        return result;
      } catch (err) {
        this.metrics?.latency(ad.name, op, performance.now() - started);
        const { error, fallback } = classify(err, ad.name, ad.endpoint, op);
        const isLast = i === this.adapters.length - 1;
        if (!fallback || isLast) {
          if (failures.length === 0) throw error;
          const Ctor = error.retryable ? TransientNodeError : NodeError;
          throw new Ctor(`${failures.join('; then ')}; then ${error.message}`, error.code, error.details, { cause: error });
        }
        failures.push(error.message);
        this.metrics?.fallback(op);
      }
    }
    throw new Error('unreachable: a Casper client always has the node adapter');
  }
}

export interface AnchorCall {
  /** 64 hex, no prefix */
  contractHash: string;
  entryPoint: string;
  /** runtime argument → its CLValue bytes as hex (a ByteArray(32) is its 32 bytes) */
  args: Record<string, string>;
}

/** `{Version1: TransactionV1}` or `{Deploy: Deploy}` → the stored-contract call it makes */
function readAnchorCall(tx: any): AnchorCall | undefined {
  const named = (list: unknown): Record<string, string> => Object.fromEntries(
    (Array.isArray(list) ? list : []).filter((a) => Array.isArray(a) && typeof a[0] === 'string').map((a) => [a[0] as string, String(a[1]?.bytes ?? '').toLowerCase()]),
  );
  const bare = (h: unknown) => String(h ?? '').toLowerCase().replace(/^(hash-|contract-|entity-contract-)/, '');
  if (tx?.Version1) {
    const f = tx.Version1.payload?.fields;
    const byHash = f?.target?.Stored?.id?.ByHash;
    const entry = f?.entry_point?.Custom ?? (typeof f?.entry_point === 'string' ? f.entry_point : undefined);
    if (typeof byHash !== 'string' || typeof entry !== 'string') return undefined;
    return { contractHash: bare(byHash), entryPoint: entry, args: named(f?.args?.Named) };
  }
  const session = tx?.Deploy?.session?.StoredContractByHash;
  if (session && typeof session.hash === 'string' && typeof session.entry_point === 'string') {
    return { contractHash: bare(session.hash), entryPoint: session.entry_point, args: named(session.args) };
  }
  return undefined;
}

/** `chain_get_block`'s result → the four facts a proof needs; undefined when the node has no such block */
function readBlock(result: any, what: string): CasperBlockInfo | undefined {
  const wrapped = result?.block_with_signatures?.block;
  if (result?.block_with_signatures === null || (result && typeof result === 'object' && !('block_with_signatures' in result))) return undefined;
  const b = wrapped?.Version2 ?? wrapped?.Version1;
  const header = b?.header;
  const info = { hash: String(b?.hash ?? '').toLowerCase(), height: header?.height, parentHash: String(header?.parent_hash ?? '').toLowerCase(), timestamp: header?.timestamp };
  if (!HEX64.test(info.hash) || !Number.isSafeInteger(info.height) || !HEX64.test(info.parentHash) || typeof info.timestamp !== 'string' || Number.isNaN(Date.parse(info.timestamp))) {
    throw new Error(`chain_get_block for ${what} is not a Version1/Version2 block with hash, height, parent_hash and timestamp`);
  }
  return info as CasperBlockInfo;
}

function rpcUrl(raw: unknown, name: string, problems: string[]): string | undefined {
  let url: URL;
  try {
    url = new URL(String(raw));
  } catch {
    problems.push(`${name} must be an http(s) URL, got ${JSON.stringify(raw)}`);
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    problems.push(`${name} must be an http(s) URL, got ${JSON.stringify(raw)}`);
    return undefined;
  }
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/rpc';
  return url.toString();
}

function hex32(value: unknown, name: string): string {
  const s = typeof value === 'string' ? value.toLowerCase().replace(/^0x/, '') : '';
  if (!HEX64.test(s)) throw new NodeError(`${name} must be 32 bytes as 64 hex characters, got ${JSON.stringify(value)}`, 'CASPER_BAD_INPUT');
  return s;
}

function bytes32(value: unknown, name: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex32(value, name), 'hex'));
}
