import { Interface, Transaction, Wallet, ContractFactory, getAddress } from 'ethers';
import { AnchorRegistryArtifact } from './anchor-registry.artifact.js';
import { FailoverRpc, block, hash32, hexData, hexQuantity, nullable, receipt, type RpcBlock, type RpcLogger, type RpcReceipt } from './failover-rpc.js';

export const REGISTRY_ABI = new Interface(AnchorRegistryArtifact.abi as unknown as string[]);
export const ANCHORED_TOPIC = REGISTRY_ABI.getEvent('Anchored')!.topicHash.toLowerCase();

export interface EvmChainOptions {
  rpcUrls: readonly string[];
  chainId: number;
  registry?: string;
  rpcTimeoutMs: number;
  logger?: RpcLogger;
}

export interface SignedTx {
  hash: string;
  raw: string;
  nonce: number;
  maxFeePerGas: string;
  maxPriorityFeePerGas: string;
}

export interface AnchorEvent {
  root: string;
  submitter: string;
  batchId: string;
  count: number;
  timestamp: number;
}

/** JSON-RPC reads and writes of one EVM network, through its RPC URLs with failover. */
export class EvmChain {
  readonly rpc: FailoverRpc;
  readonly registry?: string;

  constructor(readonly options: EvmChainOptions) {
    this.rpc = new FailoverRpc(options.rpcUrls, options.chainId, options.rpcTimeoutMs, options.logger);
    this.registry = options.registry?.toLowerCase();
  }

  async chainId(): Promise<number> {
    return Number(await this.rpc.request('eth_chainId', [], hexQuantity));
  }

  async latestBlockNumber(): Promise<number> {
    return Number(await this.rpc.request('eth_blockNumber', [], hexQuantity));
  }

  async block(n: number | 'latest'): Promise<RpcBlock | null> {
    return this.rpc.request('eth_getBlockByNumber', [typeof n === 'number' ? '0x' + n.toString(16) : n, false], block);
  }

  async receipt(txHash: string): Promise<RpcReceipt | null> {
    return this.rpc.request('eth_getTransactionReceipt', [txHash], receipt);
  }

  /** the transaction as the node knows it (mempool or chain); null once it is gone (dropped, reorged out) */
  async transactionKnown(txHash: string): Promise<boolean> {
    return (await this.rpc.request('eth_getTransactionByHash', [txHash], (raw) => raw)) !== null;
  }

  async nonce(address: string, tag: 'latest' | 'pending'): Promise<number> {
    return Number(await this.rpc.request('eth_getTransactionCount', [address, tag], hexQuantity));
  }

  /** seconds since epoch at which the registry anchored `root`, 0 when it did not */
  async anchoredAt(root: string): Promise<number> {
    const data = REGISTRY_ABI.encodeFunctionData('anchoredAt', [root]);
    return Number(await this.rpc.request('eth_call', [{ to: this.requireRegistry(), data }, 'latest'], (raw) => BigInt(hexData(raw) === '0x' ? '0x0' : hexData(raw))));
  }

  /** the Anchored event of `root`, searched from `fromBlock` (a root is anchored at most once) */
  async findAnchor(root: string, fromBlock = 0): Promise<{ txHash: string; block: number; blockHash: string } | undefined> {
    const logs = await this.rpc.request(
      'eth_getLogs',
      [{ address: this.requireRegistry(), topics: [ANCHORED_TOPIC, root], fromBlock: '0x' + fromBlock.toString(16), toBlock: 'latest' }],
      (raw) => {
        if (!Array.isArray(raw)) throw new Error('answered logs that are not an array');
        return raw.map((l: Record<string, unknown>) => ({ txHash: hash32(l.transactionHash), block: Number(hexQuantity(l.blockNumber)), blockHash: hash32(l.blockHash) }));
      },
    );
    return logs[0];
  }

  async fees(): Promise<{ maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }> {
    const latest = await this.block('latest');
    const tip = await this.rpc.request('eth_maxPriorityFeePerGas', [], hexQuantity).catch(() => 1_000_000_000n);
    const base = latest?.baseFeePerGas ?? 0n;
    return { maxFeePerGas: base * 2n + tip, maxPriorityFeePerGas: tip };
  }

  /** signs (does not send) `anchor(root, count, batchId)`; the caller stores it before broadcasting */
  async signAnchor(wallet: Wallet, a: { root: string; count: number; batchId: string }, nonce: number, fees: { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }, gasLimit = 120_000n): Promise<SignedTx> {
    const data = REGISTRY_ABI.encodeFunctionData('anchor', [a.root, a.count, a.batchId]);
    const raw = await wallet.signTransaction({ type: 2, chainId: this.options.chainId, to: this.requireRegistry(), data, nonce, gasLimit, ...fees, value: 0n });
    return { hash: Transaction.from(raw).hash!.toLowerCase(), raw, nonce, maxFeePerGas: fees.maxFeePerGas.toString(), maxPriorityFeePerGas: fees.maxPriorityFeePerGas.toString() };
  }

  /**
   * Broadcasts a signed transaction. "already known" and "nonce too low" are not failures here: the
   * caller learns from receipts and nonces what became of it.
   */
  async broadcast(raw: string): Promise<{ accepted: boolean; reason?: string }> {
    try {
      await this.rpc.request('eth_sendRawTransaction', [raw], hash32);
      return { accepted: true };
    } catch (err) {
      const msg = String((err as { error?: { message?: string } }).error?.message ?? (err as Error).message);
      if (/already known|already imported|known transaction/i.test(msg)) return { accepted: true };
      if (err instanceof Error && err.name === 'RpcError') throw err;
      return { accepted: false, reason: msg.slice(0, 300) };
    }
  }

  /** the Anchored event for `root` in a receipt, decoded */
  anchorEventIn(r: RpcReceipt, root: string): AnchorEvent | undefined {
    const log = r.logs.find((l) => l.address === this.registry && l.topics[0] === ANCHORED_TOPIC && l.topics[1] === root.toLowerCase());
    if (!log) return undefined;
    const parsed = REGISTRY_ABI.parseLog(log)!;
    return { root, submitter: String(parsed.args.submitter).toLowerCase(), batchId: String(parsed.args.batchId).toLowerCase(), count: Number(parsed.args.count), timestamp: Number(parsed.args.timestamp) };
  }

  /** deploys AnchorRegistry and waits for its receipt; returns the address to put in config */
  async deployRegistry(signer: Wallet | string, pollMs = 500, timeoutMs = 120_000): Promise<{ address: string; txHash: string; block: number; from: string }> {
    const wallet = typeof signer === 'string' ? new Wallet(signer) : signer;
    const factory = new ContractFactory(REGISTRY_ABI, AnchorRegistryArtifact.bytecode);
    const tx = await factory.getDeployTransaction();
    const from = await wallet.getAddress();
    const nonce = await this.nonce(from, 'pending');
    const fees = await this.fees();
    const raw = await wallet.signTransaction({ ...tx, type: 2, chainId: this.options.chainId, nonce, gasLimit: 1_000_000n, ...fees, value: 0n });
    const hash = Transaction.from(raw).hash!.toLowerCase();
    const sent = await this.broadcast(raw);
    if (!sent.accepted) throw new Error(`the node refused the deployment: ${sent.reason}`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.receipt(hash);
      if (r) {
        if (r.status !== 1) throw new Error(`the deployment ${hash} reverted`);
        const raw2 = await this.rpc.request('eth_getTransactionReceipt', [hash], (x) => x as { contractAddress: string });
        return { address: getAddress(raw2.contractAddress), txHash: hash, block: r.blockNumber, from };
      }
      if (Date.now() > deadline) throw new Error(`the deployment ${hash} was not mined within ${timeoutMs} ms`);
      await new Promise((res) => setTimeout(res, pollMs));
    }
  }

  private requireRegistry(): string {
    if (!this.registry) throw new Error('no registry address configured for this network');
    return this.registry;
  }

  destroy(): void {
    this.rpc.destroy();
  }
}

export { nullable };
