import { defineService } from '@anchorflow/plugin-sdk';
import type { PaymentObserverConfig } from './config.js';
import { Follower } from './follower.js';
import { type ObserverStatus, REG_PREFIX, type Registration, statusKey } from './model.js';
import { FailoverRpc } from './rpc.js';

/** how long one observer may keep the loop during a backfill before the next observer gets a turn */
const SLICE_MS = 2_000;
const PROGRESS_LOG_MS = 5_000;

/**
 * The chain follower: one per cluster (a lease in the database), so with several daemons exactly one
 * ingests and another takes over when it dies. It follows every registered observer whose trigger runs
 * (each payments.trigger.evm of an active workflow registers one and marks it `activeBy` while it runs;
 * deactivation clears the mark, and reactivation sets it again) from its persisted cursor. Errors of one
 * observer (an RPC answering garbage, every URL down) are logged and recorded in its status; the loop
 * never stops because of them.
 */
export const followerService = defineService<PaymentObserverConfig>({
  name: 'follower',
  scope: 'one-per-cluster',
  start(ctx) {
    const followers = new Map<string, { follower: Follower; key: string }>();
    const rpcs = new Map<string, FailoverRpc>();
    const progress = new Map<string, { at: number; events: number }>();

    const rpcFor = (network: string): FailoverRpc | undefined => {
      const net = ctx.config.networks[network];
      if (!net) return undefined;
      let rpc = rpcs.get(network);
      if (!rpc) {
        rpc = new FailoverRpc(net.rpcUrls, {
          timeoutMs: ctx.config.rpcTimeoutMs,
          signal: ctx.signal,
          onFailover: (from, to, reason) => ctx.logger.warn('RPC URL failed; failing over', { network, from, to, reason }),
        });
        rpcs.set(network, rpc);
      }
      return rpc;
    };

    // what operators graph and alert on (config/prometheus/alerts.yml: AnchorflowObserverBehindHead)
    const behindHead = ctx.metrics.gauge('blocks_behind_head', 'Blocks between the chain head and the last block an observer ingested', ['chain', 'observer']);
    const ingested = ctx.metrics.counter('events_ingested_total', 'Contract events appended to the observer log', ['chain', 'observer']);
    const stepErrors = ctx.metrics.counter('rpc_errors_total', 'Observer steps that failed on an RPC error (retried on the next poll)', ['chain', 'observer']);
    const follow = async (reg: Registration): Promise<void> => {
      const key = JSON.stringify([reg.network, reg.contract, reg.event, reg.startBlock, reg.confirmations]);
      let entry = followers.get(reg.id);
      const prev = (await ctx.state.get<ObserverStatus>(statusKey(reg.id))) ?? { id: reg.id, network: reg.network, startBlock: reg.startBlock, events: 0, updatedAt: 0 };
      const status: ObserverStatus = { ...prev, network: reg.network, startBlock: reg.startBlock };
      const rpc = rpcFor(reg.network);
      if (!rpc) {
        status.lastError = `network "${reg.network}" is not configured (pluginConfig.payment-observer.networks)`;
        status.updatedAt = ctx.now();
        await ctx.state.set(statusKey(reg.id), status);
        return;
      }
      if (!entry || entry.key !== key) {
        entry = { follower: new Follower(reg, rpc, ctx.state, ctx.logger, { maxRange: ctx.config.maxBlockRange, recentBlocks: ctx.config.recentBlocks }, () => ctx.now()), key };
        followers.set(reg.id, entry);
      }
      const started = Date.now();
      let events = 0;
      try {
        for (;;) {
          if (ctx.signal.aborted) break;
          const r = await entry.follower.step();
          events += r.events;
          status.head = r.head;
          status.block = r.block;
          status.behind = Math.max(0, r.head - r.block);
          behindHead.set(status.behind, { chain: reg.network, observer: reg.id });
          if (r.events > 0) ingested.inc({ chain: reg.network, observer: reg.id }, r.events);
          const p = progress.get(reg.id) ?? { at: started, events: 0 };
          p.events += r.events;
          if (Date.now() - p.at >= PROGRESS_LOG_MS) {
            if (p.events > 0 || (status.behind ?? 0) > 0) ctx.logger.info('backfill progress', { observer: reg.id, block: r.block, head: r.head, behind: status.behind, eventsPerSecond: Math.round((p.events * 1000) / (Date.now() - p.at)) });
            p.at = Date.now();
            p.events = 0;
          }
          progress.set(reg.id, p);
          // every save names the URL in use (a reader may see this one before the slice ends)
          status.rpcUrl = rpc.url;
          status.range = entry.follower.currentRange;
          status.updatedAt = ctx.now();
          status.events = (prev.events ?? 0) + events;
          await ctx.state.set(statusKey(reg.id), status);
          if (r.caughtUp || Date.now() - started > SLICE_MS) break;
        }
        delete status.lastError;
      } catch (err) {
        status.lastError = (err as Error).message;
        stepErrors.inc({ chain: reg.network, observer: reg.id });
        if (!ctx.signal.aborted) ctx.logger.warn('observer step failed; retrying on the next poll', { observer: reg.id, error: status.lastError });
      }
      const elapsed = Date.now() - started;
      status.events = (prev.events ?? 0) + events;
      if (events > 0 && elapsed > 0) status.eventsPerSecond = Math.round((events * 1000) / elapsed);
      else if (status.behind === 0) status.eventsPerSecond = 0;
      status.rpcUrl = rpc.url;
      status.range = entry.follower.currentRange;
      status.updatedAt = ctx.now();
      await ctx.state.set(statusKey(reg.id), status);
    };

    // Casper observers: one long-lived SSE stream each, started and stopped by the loop below
    const casperRuns = new Map<string, { key: string; abort: AbortController; done: Promise<void> }>();
    const stopCasper = async (id: string): Promise<void> => {
      const run = casperRuns.get(id);
      if (!run) return;
      casperRuns.delete(id);
      run.abort.abort();
      await run.done;
    };
    const followCasper = async (reg: Registration): Promise<void> => {
      const key = JSON.stringify([reg.network, reg.watch, reg.startEventId, reg.confirmations]);
      const running = casperRuns.get(reg.id);
      if (running?.key === key) return;
      await stopCasper(reg.id);
      const net = ctx.config.casperNetworks[reg.network];
      const prev = (await ctx.state.get<ObserverStatus>(statusKey(reg.id))) ?? { id: reg.id, network: reg.network, startBlock: 0, events: 0, updatedAt: 0 };
      const status: ObserverStatus = { ...prev, network: reg.network };
      if (!net) {
        status.lastError = `Casper network "${reg.network}" is not configured (pluginConfig.payment-observer.casperNetworks)`;
        status.updatedAt = ctx.now();
        await ctx.state.set(statusKey(reg.id), status);
        return;
      }
      const abort = new AbortController();
      const signal = AbortSignal.any([abort.signal, ctx.signal]);
      // casper-js-sdk is loaded with the first Casper observer, not at start-up
      const { CasperFollower } = await import('./casper.js');
      const follower = new CasperFollower(reg, net, ctx.state, ctx.logger, { recentBlocks: ctx.config.recentBlocks, idleTimeoutMs: ctx.config.casperIdleTimeoutMs, rpcTimeoutMs: ctx.config.rpcTimeoutMs });
      const base = prev.events ?? 0;
      let last = 0;
      const save = async (error?: string): Promise<void> => {
        status.head = follower.head;
        status.block = follower.block;
        status.behind = follower.head !== undefined && follower.block !== undefined ? Math.max(0, follower.head - follower.block) : undefined;
        status.events = base + follower.events;
        status.rpcUrl = net.sidecarUrl;
        if (error !== undefined) status.lastError = error;
        status.updatedAt = ctx.now();
        if (status.behind !== undefined) behindHead.set(status.behind, { chain: reg.network, observer: reg.id });
        await ctx.state.set(statusKey(reg.id), status);
      };
      let counted = 0;
      let pending: NodeJS.Timeout | undefined;
      const done = follower.run(
        signal,
        (err) => {
          stepErrors.inc({ chain: reg.network, observer: reg.id });
          ctx.logger.warn('Casper observer stream failed; reconnecting', { observer: reg.id, error: err.message });
          void save(err.message).catch(() => undefined);
        },
        () => {
          if (follower.events > counted) {
            ingested.inc({ chain: reg.network, observer: reg.id }, follower.events - counted);
            counted = follower.events;
          }
          if (status.lastError) delete status.lastError;
          // progress is saved at most every 200 ms (a burst of events writes once), and once after the burst
          if (pending) return;
          pending = setTimeout(() => {
            pending = undefined;
            void save().catch(() => undefined);
          }, Math.max(0, 200 - (Date.now() - last)));
          last = Date.now();
        },
      ).then(() => {
        clearTimeout(pending);
        return save().catch(() => undefined);
      });
      casperRuns.set(reg.id, { key, abort, done });
    };

    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    let running: Promise<void> = Promise.resolve();
    const loop = async (): Promise<void> => {
      let busy = false;
      try {
        const regs = await ctx.state.list<Registration>(REG_PREFIX);
        const listed = new Set(regs.map((r) => r.value.id));
        for (const id of casperRuns.keys()) if (!listed.has(id)) await stopCasper(id);
        for (const { value } of regs) {
          if (ctx.signal.aborted) return;
          // its workflow is inactive (no trigger run holds it): not followed until it is activated again
          if (!value.activeBy) {
            if (followers.delete(value.id) || casperRuns.has(value.id)) ctx.logger.info('observer paused: its workflow is not active', { observer: value.id });
            await stopCasper(value.id);
            continue;
          }
          if (value.chain === 'casper') {
            await followCasper(value);
            continue;
          }
          await follow(value);
          const s = followers.get(value.id);
          if (s && (await ctx.state.get<ObserverStatus>(statusKey(value.id)))?.behind) busy = true;
        }
      } catch (err) {
        if (!ctx.signal.aborted) ctx.logger.warn('follower loop failed; retrying', { error: (err as Error).message });
      }
      if (!ctx.signal.aborted && !stopped) timer = setTimeout(() => (running = loop()), busy ? 0 : ctx.config.pollIntervalMs);
    };
    running = loop();
    return async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
      await Promise.all([...casperRuns.keys()].map(stopCasper));
    };
  },
});
