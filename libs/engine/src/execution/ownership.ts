import type { NodeLogger } from '@anchorflow/plugin-sdk';
import type { EngineOptions } from '../engine.types.js';
import { EngineError } from '../errors.js';
import type { Clock } from '../ports/clock.port.js';
import type { ExecutionLeases } from '../ports/execution-leases.port.js';

/** What the engine lets the ownership module do to its executions. */
export interface OwnershipHost {
  isStopping(): boolean;
  /** ids of the executions running in memory */
  liveIds(): string[];
  isLive(executionId: string): boolean;
  /** loads and resumes an execution (`claimed`: the lease is held already); undefined when finished */
  load(executionId: string, claimed?: boolean): Promise<unknown>;
  /** arms the due timers of a live execution */
  wake(executionId: string): void;
  /** stops working on it without recording anything (another engine holds it now) */
  abandon(executionId: string): void;
  /** another engine asked for it to be cancelled */
  cancelRequested(executionId: string, reason: string): void;
}

/**
 * Recovery and leases, apart from the scheduler: which executions this engine runs. Recovers unfinished
 * executions at start, polls for due wake-ups and for executions nobody holds (their engine died),
 * renews the leases of live executions (dropping those lost, honouring remote cancel requests).
 */
export class ExecutionOwnership {
  private stopPoller?: () => void;

  constructor(
    private readonly leases: ExecutionLeases,
    private readonly clock: Clock,
    private readonly logger: NodeLogger,
    private readonly options: Pick<EngineOptions, 'wakeUpHorizonMs' | 'leaseRenewMs'>,
    private readonly host: OwnershipHost,
  ) {}

  /** resumes every unfinished execution this engine can claim; returns how many */
  async recover(): Promise<number> {
    let count = 0;
    const resume = async (ids: string[]) => {
      for (const id of ids) {
        if (this.host.isLive(id)) continue;
        try {
          if (await this.host.load(id, true)) count++;
        } catch (err) {
          this.logger.error('could not resume execution', { executionId: id, err: String(err) });
        }
      }
    };
    // claim in pages until nothing claimable is left (ours from before a restart, unowned, or expired)
    const seen = new Set<string>();
    for (;;) {
      const ids = (await this.leases.claimUnfinished(500, this.options.wakeUpHorizonMs)).filter((id) => !seen.has(id));
      if (!ids.length) return count;
      for (const id of ids) seen.add(id);
      await resume(ids);
    }
  }

  /** polls for timers and retries due soon that are not armed in memory, and renews leases */
  startPolling(intervalMs = 5000): void {
    this.stopPoller?.();
    let stopped = false;
    const tick = async () => {
      if (stopped || this.host.isStopping()) return;
      try {
        // executions whose engine died (lease expired) or that nobody holds
        for (const executionId of await this.leases.claimUnfinished(100, this.options.wakeUpHorizonMs)) {
          if (!this.host.isLive(executionId)) await this.host.load(executionId, true).catch((err) => this.logger.error('could not take over execution', { executionId, err: String(err) }));
        }
        const due = await this.leases.dueWakeUps(this.clock.now() + this.options.wakeUpHorizonMs, 1000);
        for (const { executionId } of due) {
          if (this.host.isLive(executionId)) this.host.wake(executionId);
          else await this.host.load(executionId).catch((err) => {
            if (!(err instanceof EngineError && err.code === 'CONFLICT')) this.logger.error('could not wake execution', { executionId, err: String(err) });
          });
        }
      } catch (err) {
        this.logger.warn('wake-up poll failed', { err: String(err) });
      }
      if (!stopped) cancel = this.clock.setTimer(intervalMs, () => void tick());
    };
    let cancel = this.clock.setTimer(0, () => void tick());
    const renew = async () => {
      if (stopped || this.host.isStopping()) return;
      try {
        await this.renewLeases();
      } catch (err) {
        this.logger.warn('lease renewal failed', { err: String(err) });
      }
      if (!stopped) cancelRenew = this.clock.setTimer(this.options.leaseRenewMs, () => void renew());
    };
    let cancelRenew = this.clock.setTimer(this.options.leaseRenewMs, () => void renew());
    this.stopPoller = () => {
      stopped = true;
      cancel();
      cancelRenew();
    };
  }

  stopPolling(): void {
    this.stopPoller?.();
  }

  /** keeps our executions ours; drops those another engine took over; honours remote cancel requests */
  private async renewLeases(): Promise<void> {
    const ids = this.host.liveIds();
    if (!ids.length) return;
    const { lost, cancelRequested } = await this.leases.renew(ids);
    for (const id of lost) {
      if (!this.host.isLive(id)) continue;
      this.logger.warn('lost the lease of an execution: another daemon runs it now', { executionId: id });
      this.host.abandon(id);
    }
    for (const { executionId, reason } of cancelRequested) this.host.cancelRequested(executionId, reason);
  }
}
