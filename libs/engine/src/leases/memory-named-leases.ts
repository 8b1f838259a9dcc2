import type { NamedLeases } from '../ports/named-lease.port.js';

/**
 * NamedLeases in memory: the single-owner adapter (one process, no database). Several holders in one
 * process still exclude each other, so specs can play a cluster.
 */
export class MemoryNamedLeases implements NamedLeases {
  private readonly leases = new Map<string, { holder: string; expiresAt: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  async acquire(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const current = this.leases.get(name);
    if (current && current.holder !== holder && current.expiresAt > this.now()) return false;
    this.leases.set(name, { holder, expiresAt: this.now() + ttlMs });
    return true;
  }

  async release(name: string, holder: string): Promise<void> {
    if (this.leases.get(name)?.holder === holder) this.leases.delete(name);
  }

  async holder(name: string): Promise<string | undefined> {
    const current = this.leases.get(name);
    return current && current.expiresAt > this.now() ? current.holder : undefined;
  }
}
