/**
 * Leases on named pieces of work that must run in one process of a cluster at a time: one-per-cluster
 * plugin services (`service:<plugin>/<name>`) and trigger sources (`trigger:<workflowId>/<nodeId>`).
 * Time is the store's (one clock for every holder), so holders on machines with skewed clocks agree.
 */
export interface NamedLeases {
  /**
   * Takes the lease for `holder`, or extends it when `holder` has it already. False when another holder
   * has a lease that has not expired.
   */
  acquire(name: string, holder: string, ttlMs: number): Promise<boolean>;
  /** gives the lease up (only when `holder` has it), so another holder can take it at once */
  release(name: string, holder: string): Promise<void>;
  /** who holds the live lease on `name`, if anyone */
  holder(name: string): Promise<string | undefined>;
}
