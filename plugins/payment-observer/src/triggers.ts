import { randomUUID } from 'node:crypto';
import { defineTrigger, type Fire, type TriggerContext } from '@anchorflow/plugin-sdk';
import { normaliseCasperTarget } from './casper-target.js';
import { normaliseEventSpec } from './events.js';
import { LogReader } from './log-store.js';
import { ALERTS_PREFIX, type AlertEntry, type Cursor, cursorKey, deliveredKey, regKey, type Registration } from './model.js';
import { CasperTriggerParams, EvmTriggerParams, type PaymentFilter, ReorgTriggerParams } from './params.js';
import { matchesFilter, toPayload } from './payload.js';

const POLL_MS = 200;
/** the delivery position is saved at least every this many handled entries */
const SAVE_EVERY = 100;

export const observerId = (workflowId: string, nodeId: string): string => `${workflowId}.${nodeId}`;

interface Delivered {
  /** next log position not handled yet */
  pos: number;
}

function poller(signal: AbortSignal, work: () => Promise<void>, onError: (err: unknown) => void): () => Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const tick = async (): Promise<void> => {
    try {
      await work();
    } catch (err) {
      if (!signal.aborted && !stopped) onError(err);
    }
    if (!signal.aborted && !stopped) timer = setTimeout(() => (running = tick()), POLL_MS);
  };
  running = tick();
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    await running;
  };
}

/**
 * Starts one execution per confirmed matching event. The follower service (one per cluster) writes the
 * observer's log; this trigger registers the observer, then walks the log from its saved position and
 * fires every event that is `confirmations` blocks deep and was not retracted by a reorg, with the dedupe
 * key `${chainId}:${txHash}:${logIndex}` (so a crash between firing and saving the position, or two
 * daemons, never start a second execution).
 */
export const evmTrigger = defineTrigger<EvmTriggerParams>({
  type: 'payments.trigger.evm',
  version: 1,
  title: 'EVM payment',
  description: 'Starts an execution for each confirmed contract event (ERC-20 Transfer, x402 flow events or any ABI event), reorg-safe.',
  params: EvmTriggerParams,
  async start(ctx, fire) {
    const id = observerId(ctx.workflowId, ctx.nodeId);
    const p = ctx.params;
    const reg: Registration = {
      id,
      workflowId: ctx.workflowId,
      nodeId: ctx.nodeId,
      network: p.network,
      ...(p.contract ? { contract: p.contract.toLowerCase() } : {}),
      event: normaliseEventSpec(p.event),
      confirmations: p.confirmations,
      startBlock: p.startBlock,
      registeredAt: Date.now(),
    };
    return runObserver(ctx, fire, reg, p.confirmations, p.filter);
  },
});

/**
 * Starts an execution for each native CSPR transfer to a watched account or purse, read from the Casper
 * sidecar's SSE stream by the follower service; the same log, delivery and dedupe as payments.trigger.evm.
 */
export const casperTrigger = defineTrigger<CasperTriggerParams>({
  type: 'payments.trigger.casper',
  version: 1,
  title: 'Casper payment',
  description: 'Starts an execution for each native CSPR transfer to a watched account or purse (Casper sidecar SSE), after the confirmations.',
  params: CasperTriggerParams,
  async start(ctx, fire) {
    const id = observerId(ctx.workflowId, ctx.nodeId);
    const p = ctx.params;
    const watch = [...new Set((typeof p.to === 'string' ? [p.to] : p.to).map(normaliseCasperTarget))].sort();
    const reg: Registration = {
      id,
      chain: 'casper',
      workflowId: ctx.workflowId,
      nodeId: ctx.nodeId,
      network: p.network,
      event: 'casper.Transfer',
      watch,
      confirmations: p.confirmations,
      startBlock: 0,
      ...(p.startEventId !== undefined ? { startEventId: p.startEventId } : {}),
      registeredAt: Date.now(),
    };
    const filter = { ...(p.filter?.from ? { from: normaliseCasperTarget(p.filter.from) } : {}), ...(p.filter?.minAmount ? { minAmount: p.filter.minAmount } : {}) };
    return runObserver(ctx, fire, reg, p.confirmations, filter);
  },
});

/**
 * Registers the observer (kept as is when nothing that shapes its log changed) marked with this run's
 * token, then walks the log from its saved position and fires every event that is `confirmations`
 * blocks deep and was not retracted by a reorg, with the dedupe key `${chainId}:${txHash}:${logIndex}`.
 * Stopping (deactivation, this daemon stopping) clears the mark unless another run took over.
 */
async function runObserver(ctx: TriggerContext<unknown>, fire: Fire, reg: Registration, confirmations: number, filter: Partial<PaymentFilter> | undefined): Promise<() => Promise<void>> {
  const id = reg.id;
  // this run's token: the follower follows the observer while a run of its trigger has it set
  const token = randomUUID();
  await ctx.state.update<Registration>(regKey(id), (cur) => {
    const same = cur && cur.chain === reg.chain && cur.network === reg.network && cur.contract === reg.contract && cur.event === reg.event && cur.confirmations === reg.confirmations && cur.startBlock === reg.startBlock && JSON.stringify(cur.watch) === JSON.stringify(reg.watch) && cur.startEventId === reg.startEventId;
    return { ...(same ? cur : reg), activeBy: token };
  });
  const reader = new LogReader(ctx.state, id);
  const stopPolling = poller(
    ctx.signal,
    async () => {
      const cursor = await ctx.state.get<Cursor>(cursorKey(id));
      if (!cursor) return;
      const delivered = (await ctx.state.get<Delivered>(deliveredKey(id))) ?? { pos: 0 };
      if (delivered.pos >= cursor.nextPos) return;
      // the cursor is read before the log: an entry past it is not confirmed by it, and a reorg that
      // retracts an entry this cursor confirms is deeper than the confirmations (an alert, not a skip)
      const confirmedThrough = cursor.block - confirmations;
      // a retraction is appended after the event it retracts, possibly pages later: collect them all over
      // the walk first (positions only), then fire; a set built per page fired events retracted a page on
      const retracted = new Set<number>();
      for await (const page of reader.pages(delivered.pos)) for (const entry of page) if (entry.kind !== 'event') retracted.add(entry.retracts);
      let next = delivered.pos;
      let unsaved = 0;
      pages: for await (const page of reader.pages(delivered.pos)) {
        for (const entry of page) {
          if (ctx.signal.aborted || entry.pos >= cursor.nextPos) break pages;
          if (entry.kind === 'event' && !retracted.has(entry.pos)) {
            if (entry.block > confirmedThrough) break pages;
            const payload = toPayload(id, entry);
            if (matchesFilter(payload, filter)) {
              const r = await fire(payload, { dedupeKey: `${entry.chainId}:${entry.txHash}:${entry.logIndex}` });
              ctx.logger.info('payment event started an execution', { observer: id, txHash: entry.txHash, logIndex: entry.logIndex, block: entry.block, executionId: r.executionId, duplicate: r.duplicate });
            }
          }
          next = entry.pos + 1;
          if (++unsaved >= SAVE_EVERY) {
            await ctx.state.set(deliveredKey(id), { pos: next } satisfies Delivered);
            unsaved = 0;
          }
        }
      }
      if (next !== delivered.pos) await ctx.state.set(deliveredKey(id), { pos: next } satisfies Delivered);
    },
    (err) => ctx.logger.warn('delivering payment events failed; retrying', { observer: id, error: (err as Error).message }),
  );
  return async () => {
    await stopPolling();
    // deactivated (or this daemon stops): the follower stops following unless another run took over
    await ctx.state.update<Registration>(regKey(id), (cur) => {
      if (!cur || cur.activeBy !== token) return cur;
      const { activeBy: _mine, ...rest } = cur;
      return rest;
    });
  };
}

/** Fires when a reorg deeper than an observer's confirmation depth removed an event it may have delivered. */
export const reorgTrigger = defineTrigger<ReorgTriggerParams>({
  type: 'payments.trigger.reorg',
  version: 1,
  title: 'Deep reorg alert',
  description: 'Starts an execution when a reorg deeper than the confirmation depth retracts an already confirmed payment event.',
  params: ReorgTriggerParams,
  async start(ctx, fire) {
    const seenKey = `reorg-seen/${observerId(ctx.workflowId, ctx.nodeId)}`;
    return poller(
      ctx.signal,
      async () => {
        const after = await ctx.state.get<string>(seenKey);
        const alerts = await ctx.state.list<AlertEntry & { observer: string }>(ALERTS_PREFIX, after ? { after } : {});
        for (const { key, value } of alerts) {
          if (ctx.signal.aborted) return;
          if (!ctx.params.observer || ctx.params.observer === value.observer) {
            await fire({ ...value, observer: value.observer }, { dedupeKey: `${value.observer}:${value.pos}` });
            ctx.logger.warn('deep reorg alert fired', { observer: value.observer, txId: value.id, block: value.block, depth: value.depth });
          }
          await ctx.state.set(seenKey, key);
        }
      },
      (err) => ctx.logger.warn('reading reorg alerts failed; retrying', { error: (err as Error).message }),
    );
  },
});
