/**
 * The state of a fake Casper 2.0 network: accepted transactions and legacy deploys, blocks produced on
 * demand, and the numbered event log the sidecar streams. Submissions are checked with casper-js-sdk's
 * own parsers (`TransactionV1.fromJSON` / `Deploy.fromJSON` recompute the hash and verify every
 * approval), so a tampered transaction is refused exactly where a real node refuses it.
 *
 * Shapes follow the published schemas of the Casper 2.0 line (read on the repositories' `feat-2.0` branches;
 * in 2.0 the JSON-RPC server, and with it `resources/test/rpc_schema.json`, moved from casper-node to
 * casper-sidecar): the sidecar's `resources/test/rpc_schema.json`
 * (JSON-RPC results: `ExecutionInfo`, `ExecutionResultV2` without `payment`, `BlockV2`, `JsonBlockWithSignatures`)
 * and the node's `resources/test/sse_data_schema.json` (events; its `ExecutionResultV2` carries `payment`).
 * Error codes and texts are the sidecar's (`rpc_sidecar/src/rpcs/error_code.rs`, `error.rs`,
 * `node_client.rs`): e.g. -32016 "Invalid transaction" with data
 * "the transaction was invalid: The transaction sent to the network had an invalid approval".
 */
import { createHash, randomBytes } from 'node:crypto';
import casper from 'casper-js-sdk';

const { TransactionV1, Deploy, PrivateKey, KeyAlgorithm, PublicKey } = casper;

export const API_VERSION = '2.0.0';

/** a JSON-RPC error as the sidecar writes it: `{code, message, data}` */
export class RpcFailure extends Error {
  constructor(readonly code: number, readonly rpcMessage: string, readonly data: unknown) {
    super(`${code} ${rpcMessage}: ${typeof data === 'string' ? data : JSON.stringify(data)}`);
  }
}

export const RpcCodes = {
  NoSuchDeploy: [-32000, 'No such deploy'],
  NoSuchBlock: [-32001, 'No such block'],
  InvalidDeploy: [-32008, 'Invalid Deploy'],
  NoSuchTransaction: [-32014, 'No such transaction'],
  InvalidTransaction: [-32016, 'Invalid transaction'],
  InvalidParams: [-32602, 'Invalid params'],
} as const;

function fail(code: readonly [number, string], data: unknown): never {
  throw new RpcFailure(code[0], code[1], data);
}

export type NamedArg = { cl_type: unknown; bytes: string; parsed?: unknown };

/** what the network received: enough for a test to check what a client asked the contract to do */
export interface AcceptedCall {
  kind: 'transaction' | 'deploy';
  hash: string;
  contractHash: string | undefined;
  entryPoint: string | undefined;
  args: Record<string, NamedArg>;
  /** the JSON exactly as submitted (without the `Version1` wrapper) */
  json: any;
}

interface Executed {
  blockHash: string;
  blockHeight: number;
  errorMessage: string | null;
}

/** a native transfer's effect (`target: Native`, `entry_point: Transfer`), as casper-types' TransferV2 names it */
interface NativeTransfer {
  /** the recipient account (`account-hash-…`), null when the target was a purse */
  to: string | null;
  target: string;
  amount: string;
  id: number | null;
}

interface StoredTx extends AcceptedCall {
  initiator: string;
  transfer?: NativeTransfer;
  timestamp: string;
  ttl: string;
  limit: string;
  executed?: Executed;
}

export interface FakeBlock {
  hash: string;
  height: number;
  parentHash: string;
  timestamp: string;
  eraId: number;
  stateRootHash: string;
  bodyHash: string;
  accumulatedSeed: string;
  transactions: Array<{ kind: 'transaction' | 'deploy'; hash: string }>;
}

export interface SseEvent {
  /** undefined only for the ApiVersion frame */
  id?: number;
  data: unknown;
}

const hex32 = () => randomBytes(32).toString('hex');
const sha = (...parts: string[]) => createHash('sha256').update(parts.join('|')).digest('hex');
const HEX64 = /^[0-9a-f]{64}$/;

export class FakeCasperChain {
  readonly blocks: FakeBlock[] = [];
  readonly events: SseEvent[] = [];
  private readonly txs = new Map<string, StoredTx>(); // key `${kind}:${hash}`
  private readonly pending: StoredTx[] = [];
  private readonly failures = new Map<string, string>();
  private readonly listeners = new Set<(ev: SseEvent) => void>();
  private nextEventId: number;
  private readonly proposer = PrivateKey.generate(KeyAlgorithm.ED25519).publicKey.toHex();

  constructor(readonly chainName: string, opts: { firstEventId?: number; now?: () => number } = {}) {
    this.nextEventId = opts.firstEventId ?? 0;
    this.now = opts.now ?? Date.now;
    this.pushBlock([]); // genesis, height 0
  }

  private readonly now: () => number;

  /** every call accepted so far, in arrival order */
  get accepted(): AcceptedCall[] {
    return [...this.txs.values()].map(({ kind, hash, contractHash, entryPoint, args, json }) => ({ kind, hash, contractHash, entryPoint, args, json }));
  }

  get tip(): FakeBlock {
    return this.blocks[this.blocks.length - 1]!;
  }

  /** the next block that includes `hash` records this execution error (the node still includes it) */
  failExecution(hash: string, errorMessage: string): void {
    this.failures.set(hash, errorMessage);
  }

  onEvent(listener: (ev: SseEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** `account_put_transaction {transaction: {Version1 | Deploy}}` */
  putTransaction(param: any): { kind: 'transaction' | 'deploy'; hash: string } {
    if (param && typeof param === 'object' && 'Deploy' in param) return this.putDeploy(param.Deploy);
    if (!param || typeof param !== 'object' || !param.Version1) fail(RpcCodes.InvalidParams, 'expected a transaction of the shape {"Version1": {...}} or {"Deploy": {...}}');
    const json = param.Version1;
    let tx: InstanceType<typeof TransactionV1>;
    try {
      tx = TransactionV1.fromJSON(json);
    } catch (err) {
      const reason = String((err as Error).message);
      // the SDK recomputes the hash over the payload, then checks each approval's signature over it
      const detail = /hash/i.test(reason) ? 'had an invalid hash' : /signature|approval/i.test(reason) ? 'had an invalid approval' : 'was invalid for an unspecified reason';
      fail(RpcCodes.InvalidTransaction, `the transaction was invalid: The transaction sent to the network ${detail}`);
    }
    if (tx.approvals.length === 0) fail(RpcCodes.InvalidTransaction, 'the transaction was invalid: The transaction sent to the network had no approvals');
    if (tx.payload.chainName !== this.chainName) fail(RpcCodes.InvalidTransaction, 'the transaction was invalid: The transaction sent to the network had an invalid chain name');
    const hash = tx.hash.toHex();
    const fields = json.payload?.fields ?? {};
    const named: Array<[string, NamedArg]> = fields.args?.Named ?? [];
    const pricing = json.payload?.pricing_mode ?? {};
    const limit = String(pricing.PaymentLimited?.payment_amount ?? pricing.Classic?.payment_amount ?? 0);
    this.store({
      kind: 'transaction', hash, json,
      contractHash: fields.target?.Stored?.id?.ByHash,
      entryPoint: fields.entry_point?.Custom ?? (typeof fields.entry_point === 'string' ? fields.entry_point : undefined),
      args: Object.fromEntries(named),
      initiator: json.payload.initiator_addr.PublicKey ?? json.payload.initiator_addr.AccountHash,
      timestamp: json.payload.timestamp, ttl: json.payload.ttl, limit,
      ...(fields.target === 'Native' && fields.entry_point === 'Transfer' ? { transfer: nativeTransfer(Object.fromEntries(named)) } : {}),
    });
    return { kind: 'transaction', hash };
  }

  /** `account_put_deploy {deploy}` */
  putDeploy(json: any): { kind: 'deploy'; hash: string } {
    let deploy: InstanceType<typeof Deploy>;
    try {
      deploy = Deploy.fromJSON(json);
    } catch (err) {
      const reason = String((err as Error).message);
      const detail = /body hash/i.test(reason) && /deploy hash/i.test(reason) ? 'had an invalid deploy hash'
        : /body hash/i.test(reason) ? 'had an invalid body hash'
          : /hash/i.test(reason) ? 'had an invalid deploy hash'
            : /signature|approval/i.test(reason) ? 'had an invalid approval' : 'was invalid for an unspecified reason';
      fail(RpcCodes.InvalidDeploy, `the deploy was invalid: The deploy ${detail}`);
    }
    if (deploy.approvals.length === 0) fail(RpcCodes.InvalidDeploy, 'the deploy was invalid: The deploy had no approvals');
    if (deploy.header.chainName !== this.chainName) fail(RpcCodes.InvalidDeploy, 'the deploy was invalid: The deploy had an invalid chain name');
    const hash = deploy.hash.toHex();
    const session = json.session?.StoredContractByHash;
    const amount = (json.payment?.ModuleBytes?.args ?? []).find((a: [string, NamedArg]) => a[0] === 'amount')?.[1];
    this.store({
      kind: 'deploy', hash, json,
      contractHash: session?.hash,
      entryPoint: session?.entry_point,
      args: Object.fromEntries((session?.args ?? []) as Array<[string, NamedArg]>),
      initiator: json.header.account, timestamp: json.header.timestamp, ttl: json.header.ttl,
      limit: amount ? decodeU512(amount.bytes) : '0',
    });
    return { kind: 'deploy', hash };
  }

  private store(tx: StoredTx): void {
    const key = `${tx.kind}:${tx.hash}`;
    // the same signed transaction again: the node answers Ok and announces nothing new
    // (casper-node `transaction_acceptor.rs`, `handle_put_to_storage` with `is_new == false`)
    if (this.txs.has(key)) return;
    this.txs.set(key, tx);
    this.pending.push(tx);
    this.emit({ TransactionAccepted: { transaction: tx.kind === 'deploy' ? { Deploy: tx.json } : { Version1: tx.json } } });
  }

  /** includes every pending transaction in a new block, then emits BlockAdded and one TransactionProcessed per transaction */
  produceBlock(): FakeBlock {
    const included = this.pending.splice(0);
    const block = this.pushBlock(included);
    for (const tx of included) {
      tx.executed = { blockHash: block.hash, blockHeight: block.height, errorMessage: this.failures.get(tx.hash) ?? null };
    }
    this.emit({ BlockAdded: { block_hash: block.hash, block: { Version2: this.blockV2Json(block) } } });
    for (const tx of included) {
      this.emit({
        TransactionProcessed: {
          transaction_hash: tx.kind === 'deploy' ? { Deploy: tx.hash } : { Version1: tx.hash },
          initiator_addr: initiatorAddr(tx.initiator),
          timestamp: tx.timestamp,
          ttl: tx.ttl,
          block_hash: block.hash,
          execution_result: { Version2: { ...this.executionResultV2(tx), payment: [] } },
          messages: [],
        },
      });
    }
    return block;
  }

  private pushBlock(included: StoredTx[]): FakeBlock {
    const parent = this.blocks[this.blocks.length - 1];
    const height = parent ? parent.height + 1 : 0;
    const parentHash = parent?.hash ?? '00'.repeat(32);
    const ts = Math.max(this.now(), parent ? Date.parse(parent.timestamp) + 1 : 0);
    const transactions = included.map((t) => ({ kind: t.kind, hash: t.hash }));
    const block: FakeBlock = {
      hash: sha('block', String(height), parentHash, ...transactions.map((t) => t.hash), hex32()),
      height, parentHash,
      timestamp: new Date(ts).toISOString(),
      eraId: Math.floor(height / 100),
      stateRootHash: hex32(), bodyHash: sha('body', ...transactions.map((t) => t.hash)), accumulatedSeed: hex32(),
      transactions,
    };
    this.blocks.push(block);
    return block;
  }

  private emit(data: unknown): void {
    const ev: SseEvent = { id: this.nextEventId++, data };
    this.events.push(ev);
    for (const l of this.listeners) l(ev);
  }

  /** events with id >= startFrom (the sidecar's `start_from` is inclusive) */
  eventsFrom(startFrom: number): SseEvent[] {
    return this.events.filter((e) => (e.id ?? -1) >= startFrom);
  }

  // ---- JSON-RPC results ----------------------------------------------------------------------------

  infoGetTransaction(params: any): unknown {
    const th = params?.transaction_hash;
    const kind = th?.Version1 ? 'transaction' : th?.Deploy ? 'deploy' : undefined;
    const hash = String(th?.Version1 ?? th?.Deploy ?? '').toLowerCase();
    if (!kind || !HEX64.test(hash)) fail(RpcCodes.InvalidParams, 'transaction_hash must be {"Version1": <64 hex>} or {"Deploy": <64 hex>}');
    const tx = this.txs.get(`${kind}:${hash}`);
    if (!tx) fail(RpcCodes.NoSuchTransaction, `no transaction for hash ${kind === 'deploy' ? `deploy-hash(${hash})` : `transaction-v1-hash(${hash})`}`);
    return {
      api_version: API_VERSION,
      transaction: kind === 'deploy' ? { Deploy: tx.json } : { Version1: tx.json },
      ...(tx.executed ? { execution_info: this.executionInfo(tx) } : {}),
    };
  }

  infoGetDeploy(params: any): unknown {
    const hash = String(params?.deploy_hash ?? '').toLowerCase();
    if (!HEX64.test(hash)) fail(RpcCodes.InvalidParams, 'deploy_hash must be 64 hex characters');
    const tx = this.txs.get(`deploy:${hash}`);
    if (!tx) fail(RpcCodes.NoSuchDeploy, `no deploy for hash deploy-hash(${hash})`);
    return { api_version: API_VERSION, deploy: tx.json, ...(tx.executed ? { execution_info: this.executionInfo(tx) } : {}) };
  }

  chainGetBlock(params: any): unknown {
    const id = params?.block_identifier;
    let block: FakeBlock | undefined;
    if (id === undefined || id === null) block = this.tip;
    else if (typeof id?.Hash === 'string') block = this.blocks.find((b) => b.hash === id.Hash.toLowerCase());
    else if (Number.isInteger(id?.Height)) block = this.blocks[id.Height];
    else fail(RpcCodes.InvalidParams, 'block_identifier must be {"Hash": <64 hex>} or {"Height": <u64>}');
    if (!block) {
      fail(RpcCodes.NoSuchBlock, { message: 'no block found for the provided identifier', available_block_range: { low: 0, high: this.tip.height } });
    }
    return {
      api_version: API_VERSION,
      block_with_signatures: { block: { Version2: this.blockV2Json(block) }, proofs: [] },
    };
  }

  infoGetStatus(): unknown {
    const tip = this.tip;
    return {
      api_version: API_VERSION, protocol_version: API_VERSION, peers: [], build_version: '2.0.0-fake',
      chainspec_name: this.chainName, starting_state_root_hash: this.blocks[0]!.stateRootHash,
      last_added_block_info: { hash: tip.hash, timestamp: tip.timestamp, era_id: tip.eraId, height: tip.height, state_root_hash: tip.stateRootHash, creator: this.proposer },
      our_public_signing_key: null, round_length: null, next_upgrade: null, uptime: '1m', reactor_state: 'Validate',
      last_progress: tip.timestamp, available_block_range: { low: 0, high: tip.height },
      block_sync: { historical: null, forward: null }, latest_switch_block_hash: null,
    };
  }

  private executionInfo(tx: StoredTx): unknown {
    return { block_hash: tx.executed!.blockHash, block_height: tx.executed!.blockHeight, execution_result: { Version2: this.executionResultV2(tx) } };
  }

  private executionResultV2(tx: StoredTx): Record<string, unknown> {
    return {
      initiator: initiatorAddr(tx.initiator),
      error_message: tx.executed?.errorMessage ?? null,
      limit: tx.limit, consumed: tx.limit === '0' ? '0' : String(BigInt(tx.limit) / 2n), cost: tx.limit,
      // a native transfer that executed moves the motes: one TransferV2 (casper-types 5 `Transfer::V2` JSON)
      transfers: tx.transfer && !tx.executed?.errorMessage ? [this.transferV2(tx, tx.transfer)] : [],
      size_estimate: JSON.stringify(tx.json).length, effects: [],
    };
  }

  private transferV2(tx: StoredTx, t: NativeTransfer): unknown {
    const from = initiatorAddr(tx.initiator) as { PublicKey?: string; AccountHash?: string };
    const fromAccount = from.AccountHash ?? PublicKey.fromHex(from.PublicKey!).accountHash().toPrefixedString();
    return {
      Version2: {
        transaction_hash: { Version1: tx.hash }, from, to: t.to, source: mainPurse(fromAccount), target: t.target,
        amount: t.amount, gas: '0', id: t.id,
      },
    };
  }

  private blockV2Json(b: FakeBlock): unknown {
    // lanes: 0 mint, 1 auction, 2 install/upgrade, 3+ wasm sizes; an `anchor` call is a small wasm-lane transaction
    const small = b.transactions.map((t) => (t.kind === 'deploy' ? { Deploy: t.hash } : { Version1: t.hash }));
    return {
      hash: b.hash,
      header: {
        parent_hash: b.parentHash, state_root_hash: b.stateRootHash, body_hash: b.bodyHash, random_bit: false,
        accumulated_seed: b.accumulatedSeed, era_end: null, timestamp: b.timestamp, era_id: b.eraId, height: b.height,
        protocol_version: API_VERSION, proposer: this.proposer, current_gas_price: 1,
        // genesis has none (null, as the schema allows); every later block of era 0 points at genesis
        last_switch_block_hash: b.height === 0 ? null : this.blocks[0]!.hash,
      },
      body: { transactions: { '0': [], '1': [], '2': [], '3': small }, rewarded_signatures: [] },
    };
  }
}

/** CLValue U512 bytes: one length byte, then that many little-endian bytes */
function decodeU512(hex: string): string {
  const bytes = Buffer.from(hex, 'hex');
  let v = 0n;
  for (let i = bytes[0] ?? 0; i >= 1; i--) v = (v << 8n) | BigInt(bytes[i] ?? 0);
  return v.toString();
}

function initiatorAddr(initiator: string): unknown {
  return initiator.startsWith('account-hash-') ? { AccountHash: initiator } : { PublicKey: initiator };
}

/** the fake's main purse of an account: a stable URef with READ_ADD_WRITE rights, as `account_info` would show */
export function mainPurse(accountHash: string): string {
  return `uref-${sha('main-purse', accountHash)}-007`;
}

/** the target, amount and id named args of a native transfer (CLValue bytes as casper-js-sdk writes them) */
function nativeTransfer(args: Record<string, NamedArg>): NativeTransfer {
  const target = args.target;
  const amount = args.amount ? decodeU512(args.amount.bytes) : '0';
  const idBytes = args.id ? Buffer.from(args.id.bytes, 'hex') : Buffer.alloc(0);
  const id = idBytes[0] === 1 ? Number(idBytes.readBigUInt64LE(1)) : null;
  if (!target) fail(RpcCodes.InvalidTransaction, 'the transaction was invalid: The transaction sent to the network had an invalid native transfer target');
  if (target.cl_type === 'PublicKey') {
    const account = PublicKey.fromHex(target.bytes).accountHash().toPrefixedString();
    return { to: account, target: mainPurse(account), amount, id };
  }
  if (target.cl_type === 'URef') {
    // 32 bytes of address, 1 byte of access rights
    return { to: null, target: `uref-${target.bytes.slice(0, 64)}-${String(Number.parseInt(target.bytes.slice(64, 66), 16)).padStart(3, '0')}`, amount, id };
  }
  // an account hash: ByteArray(32) or Key::Account
  const hex = target.bytes.slice(-64);
  const account = `account-hash-${hex}`;
  return { to: account, target: mainPurse(account), amount, id };
}
