import type { NodeLogger, PluginState } from '@anchorflow/plugin-sdk';
import type { ActiveBatch, ChainDriver } from '../batcher/batch.js';
import type { CasperChainConfig } from '../config.js';
import type { ProofAnchor, Proof } from '../proof/proof-format.js';
import type { Check } from '../proof/verify.js';
import type { CasperAnchorClient, SignedCasperAnchor } from './casper-port.js';
import { ExecutionStream } from './execution-stream.js';

/** `ActiveBatch.chain` for a Casper network */
interface CasperProgress {
  /** the signed call, saved before it is sent: after a crash the same bytes are sent again */
  signed?: SignedCasperAnchor;
  txHash?: string;
  sentAt?: number;
  /** the stream epoch that covers this transaction: its result comes from the SSE stream, not from polling */
  coveredBy?: string;
  processed?: { blockHash: string; blockHeight: number; timestamp: string };
  resubmits?: number;
}

const strip0x = (h: string) => h.replace(/^0x/, '').toLowerCase();
const with0x = (h: string) => '0x' + strip0x(h);
const codeOf = (err: unknown) => (err as { code?: string }).code;

export interface CasperDriverOptions {
  /** durable state for the stream checkpoint; without it (or without client.follow) the driver polls */
  state?: PluginState;
  /** asks the batcher loop for a step now (an event moved the batch) */
  wake?: () => void;
  /** a covered transaction with no result for this long is asked for once anyway (expired, dropped); default 60 s */
  staleAfterMs?: number;
  /** how long a stream may be down before polling takes over (default 5 s; two failed connects also count) */
  streamGraceMs?: number;
  /** the service's signal: the stream stops with it (as with close()) */
  signal?: AbortSignal;
}

type StatusAnswer = Awaited<ReturnType<CasperAnchorClient['status']>>;

/**
 * Anchors a batch through the stored contract's `anchor(root: 32 bytes, batch_id: 32 bytes, count: u32)`
 * entry point, then waits for the transaction to be processed in a block that is `confirmations` deep and
 * still the block at that height. Like on EVM, the call is signed and saved before it is sent, so a kill at
 * any point re-sends those very bytes (same hash) instead of anchoring the batch a second time; the
 * operator's contract refusing a root it holds is the last line of defence.
 *
 * Execution is learnt from the sidecar's SSE stream (TransactionProcessed, BlockAdded; see
 * ExecutionStream) when a sidecar is configured: no status polling while the stream covers the
 * transaction. Polling (`status`, `latestBlockHeight`) is the fallback when the stream is unavailable,
 * when the transaction was sent outside the stream's coverage, and once for a result overdue by staleAfterMs.
 */
export class CasperDriver implements ChainDriver {
  readonly stream?: ExecutionStream;
  private lastStaleCheck = new Map<string, number>();

  constructor(
    private readonly config: CasperChainConfig,
    private readonly client: CasperAnchorClient,
    private readonly logger: NodeLogger,
    private readonly now: () => number,
    private readonly opts: CasperDriverOptions = {},
  ) {
    if ((config.sidecarUrl || config.sseUrl) && client.follow && opts.state) {
      const follow = client.follow.bind(client);
      this.stream = new ExecutionStream({
        network: config.name,
        follow,
        state: opts.state,
        logger,
        now,
        ...(opts.wake ? { onActivity: opts.wake } : {}),
        ...(opts.streamGraceMs !== undefined ? { graceMs: opts.streamGraceMs } : {}),
      });
      opts.signal?.addEventListener('abort', () => this.stream?.close(), { once: true });
      if (opts.signal?.aborted) this.stream.close();
      else void this.stream.start();
    }
  }

  async advance(batch: ActiveBatch, save: () => Promise<void>): Promise<ProofAnchor | undefined> {
    const p = batch.chain as CasperProgress;
    const stream = this.stream;
    // read before looking results up: every event up to here has been taken in (see ExecutionStream)
    const upTo = stream?.position;
    const epoch = stream?.epoch;
    const anchor = await this.step(batch, p, save, upTo === undefined ? undefined : epoch);
    await stream?.checkpoint(upTo);
    return anchor;
  }

  /** no batch in flight: nothing waits on the stream, so its position can be stored as it is */
  async idle(): Promise<void> {
    this.stream?.watch(undefined);
    await this.stream?.checkpoint(this.stream.position);
  }

  private async step(batch: ActiveBatch, p: CasperProgress, save: () => Promise<void>, epochNow: string | undefined): Promise<ProofAnchor | undefined> {
    const stream = this.stream;
    const fresh = !p.signed;
    if (!p.signed) {
      p.signed = this.client.signAnchor({ root: strip0x(batch.root), batchId: strip0x(batch.id), count: batch.keys.length });
      p.txHash = strip0x(p.signed.txHash);
      delete p.coveredBy;
      delete p.sentAt;
      await save();
    }
    stream?.watch(p.txHash);
    if (p.sentAt === undefined) {
      // opened before the transaction leaves, so its TransactionProcessed cannot slip by unseen
      if (stream) await stream.ready(this.config.sidecarTimeoutMs);
      // only a transaction signed in this very step surely has no result yet: one saved earlier may have been
      // sent (and processed) before a crash, outside what the stream covers, so it is asked for once instead
      const covering = fresh ? stream?.epoch : undefined;
      if (covering) p.coveredBy = covering;
      else delete p.coveredBy;
      await this.send(batch, p, save);
      return undefined;
    }
    if (!p.processed) {
      const outcome = await this.learnProcessed(batch, p, save, epochNow);
      if (outcome === 'wait') return undefined;
      if (outcome === 'resign') return undefined;
    }
    const processed = p.processed!;
    const tip = stream?.covers(p.coveredBy) && stream.tip !== undefined ? stream.tip : await this.client.latestBlockHeight();
    if (tip - processed.blockHeight + 1 < this.config.confirmations) return undefined;
    const canonical = await this.client.block(processed.blockHeight);
    if (!canonical || strip0x(canonical.hash) !== processed.blockHash) {
      this.logger.warn('anchoring block is no longer at its height', { event: 'chain.reorg', network: this.config.name, batchId: batch.id, block: processed.blockHeight });
      delete p.processed;
      delete p.coveredBy; // ask the node where the transaction is now
      this.stream?.forget(p.txHash!);
      await save();
      return undefined;
    }
    return {
      chain: 'casper',
      network: this.config.name,
      txHash: with0x(p.txHash!),
      block: processed.blockHeight,
      blockHash: with0x(processed.blockHash),
      contract: with0x(this.config.contractHash),
      timestamp: new Date(processed.timestamp).toISOString(),
    };
  }

  /** from the stream when it covers the transaction, else by polling status; saves p.processed */
  private async learnProcessed(batch: ActiveBatch, p: CasperProgress, save: () => Promise<void>, epochNow: string | undefined): Promise<'wait' | 'resign' | 'processed'> {
    const stream = this.stream;
    const ev = stream?.processedEvent(p.txHash!);
    let result: { blockHash: string; error?: string; blockHeight?: number; timestamp?: string };
    if (ev) {
      result = { blockHash: ev.blockHash, ...(ev.error ? { error: ev.error } : {}) };
      const b = stream!.block(ev.blockHash);
      if (b) Object.assign(result, { blockHeight: b.height, timestamp: b.timestamp });
    } else {
      if (stream?.covers(p.coveredBy) && !this.overdue(p)) return 'wait';
      let status: StatusAnswer;
      try {
        status = await this.client.status(p.txHash!);
      } catch (err) {
        // never reached the network (dropped, expired): send the saved bytes again
        if (codeOf(err) === 'CASPER_TX_NOT_FOUND') {
          await this.send(batch, p, save);
          return 'wait';
        }
        throw err;
      }
      if (status.state === 'pending') {
        // seen pending while the stream covers: from now on its result comes from the stream
        if (epochNow && epochNow === stream?.epoch && p.coveredBy !== epochNow) {
          p.coveredBy = epochNow;
          await save();
        }
        return 'wait';
      }
      result = status;
    }
    if (result.error) {
      this.logger.warn('anchor transaction failed on chain; signing it again', { event: 'chain.tx.reverted', network: this.config.name, batchId: batch.id, txHash: p.txHash, error: result.error });
      delete p.signed;
      delete p.txHash;
      delete p.processed;
      delete p.sentAt;
      delete p.coveredBy;
      p.resubmits = (p.resubmits ?? 0) + 1;
      await save();
      return 'resign';
    }
    if (result.blockHeight === undefined || result.timestamp === undefined) {
      const b = await this.client.block(strip0x(result.blockHash));
      if (!b) return 'wait'; // the node does not have it yet: ask again at the next step
      result.blockHeight = b.height;
      result.timestamp = b.timestamp;
    }
    p.processed = { blockHash: strip0x(result.blockHash), blockHeight: result.blockHeight, timestamp: result.timestamp };
    await save();
    this.logger.info('anchor transaction processed', { event: 'chain.tx.processed', network: this.config.name, batchId: batch.id, txHash: p.txHash, block: result.blockHeight, via: ev ? 'sse' : 'status' });
    return 'processed';
  }

  /** a covered transaction whose result is long overdue is asked for once per staleAfterMs */
  private overdue(p: CasperProgress): boolean {
    const after = this.opts.staleAfterMs ?? 60_000;
    const since = Math.max(p.sentAt ?? 0, this.lastStaleCheck.get(p.txHash!) ?? 0);
    if (this.now() - since < after) return false;
    this.lastStaleCheck.set(p.txHash!, this.now());
    return true;
  }

  private async send(batch: ActiveBatch, p: CasperProgress, save: () => Promise<void>): Promise<void> {
    try {
      // as plain JSON again (what plugin state holds): the SDK's parser wants arrays and objects it made itself
      await this.client.submitSigned(JSON.parse(JSON.stringify(p.signed)) as SignedCasperAnchor);
      p.sentAt = this.now();
      await save();
      this.logger.info('anchor transaction sent', { event: 'chain.tx.sent', network: this.config.name, batchId: batch.id, txHash: p.txHash, followedBy: p.coveredBy ? 'sse' : 'polling' });
    } catch (err) {
      const retryable = (err as { retryable?: boolean }).retryable !== false;
      this.logger.warn('anchor transaction not accepted', { event: 'chain.tx.refused', network: this.config.name, batchId: batch.id, txHash: p.txHash, error: (err as Error).message, retryable });
      if (!retryable && (await this.unknownToNetwork(p.txHash!))) {
        // refused for good (expired, malformed) and not on the network: sign a fresh one at the next step
        delete p.signed;
        delete p.txHash;
        delete p.sentAt;
        delete p.coveredBy;
        await save();
      }
    }
  }

  private async unknownToNetwork(txHash: string): Promise<boolean> {
    try {
      await this.client.status(txHash);
      return false;
    } catch (err) {
      return codeOf(err) === 'CASPER_TX_NOT_FOUND';
    }
  }

  close(): void {
    this.stream?.close();
  }
}

/** Online checks of a Casper proof: processed without error in that block, which is canonical and deep enough. */
export async function checkCasperProof(proof: Proof, client: CasperAnchorClient, confirmations: number): Promise<Check[]> {
  const a = proof.anchor;
  const status = await client.status(strip0x(a.txHash));
  if (status.state !== 'processed') return [{ name: 'anchor-event', ok: false, detail: `transaction ${a.txHash} is not processed` }];
  const checks: Check[] = [];
  // the transaction must be the anchor call for this root: the contract the proof names, entry point
  // `anchor`, runtime argument `root` = the proof's root (a ByteArray(32) serializes as its 32 bytes)
  const call = await client.anchorCall(strip0x(a.txHash));
  const callProblem = !call
    ? `transaction ${a.txHash} is not a call to a stored contract by hash`
    : call.contractHash !== strip0x(a.contract)
      ? `transaction ${a.txHash} called contract 0x${call.contractHash}, the proof names ${a.contract}`
      : call.entryPoint !== 'anchor'
        ? `transaction ${a.txHash} called entry point "${call.entryPoint}", not "anchor"`
        : call.args.root !== strip0x(proof.root)
          ? `transaction ${a.txHash} anchored root ${call.args.root ? with0x(call.args.root) : '(none)'}, the proof's root is ${proof.root}`
          : undefined;
  checks.push(
    callProblem
      ? { name: 'anchor-event', ok: false, detail: callProblem }
      : !status.error && strip0x(status.blockHash) === strip0x(a.blockHash)
        ? { name: 'anchor-event', ok: true, detail: `transaction ${a.txHash} called ${a.contract} anchor(root ${proof.root}) and was processed in block ${a.blockHash}` }
        : { name: 'anchor-event', ok: false, detail: status.error ? `transaction ${a.txHash} failed: ${status.error}` : `transaction ${a.txHash} was processed in ${with0x(status.blockHash)}, the proof names ${a.blockHash}` },
  );
  const b = await client.block(a.block);
  checks.push(b && strip0x(b.hash) === strip0x(a.blockHash) ? { name: 'block-canonical', ok: true, detail: `block ${a.block} is ${a.blockHash}` } : { name: 'block-canonical', ok: false, detail: `block ${a.block} is ${b ? with0x(b.hash) : 'missing'}, the proof names ${a.blockHash}` });
  const depth = (await client.latestBlockHeight()) - a.block + 1;
  checks.push({ name: 'confirmations', ok: depth >= confirmations, detail: `${depth} confirmation(s), ${confirmations} required` });
  return checks;
}
