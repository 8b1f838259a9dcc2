import type { ExecutionLeases } from '../ports/execution-leases.port.js';
import type { ExecutionStore } from '../ports/execution-store.port.js';

/**
 * ExecutionLeases for a store only this engine uses: everything in it is ours. Each unfinished execution
 * is handed out by claimUnfinished once (recovery); afterwards timers and signals bring it back, as with
 * the PostgreSQL adapter's horizon.
 */
export class SingleOwnerLeases implements ExecutionLeases {
  private readonly handedOut = new Set<string>();

  constructor(private readonly store: Pick<ExecutionStore, 'unfinished' | 'dueWakeUps'>) {}

  async claimUnfinished(limit: number): Promise<string[]> {
    const unfinished = await this.store.unfinished();
    const current = new Set(unfinished);
    for (const id of this.handedOut) if (!current.has(id)) this.handedOut.delete(id);
    const out = unfinished.filter((id) => !this.handedOut.has(id)).slice(0, limit);
    for (const id of out) this.handedOut.add(id);
    return out;
  }

  async claim(): Promise<boolean> {
    return true;
  }

  async renew(): Promise<{ lost: string[]; cancelRequested: Array<{ executionId: string; reason: string }> }> {
    return { lost: [], cancelRequested: [] };
  }

  async release(): Promise<void> {}

  async requestCancel(): Promise<boolean> {
    return false;
  }

  dueWakeUps(before: number, limit: number): Promise<Array<{ executionId: string; wakeAt: number }>> {
    return this.store.dueWakeUps(before, limit);
  }
}
