import type { Clock } from '../ports/clock.port.js';

/** A clock tests move by hand: timers fire in time order when `advance` passes them. */
export class ManualClock implements Clock {
  private t: number;
  private timers: Array<{ at: number; fn: () => void; id: number }> = [];
  private nextId = 0;
  constructor(start = 1_700_000_000_000) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  setTimer(ms: number, fn: () => void): () => void {
    const id = this.nextId++;
    this.timers.push({ at: this.t + Math.max(0, ms), fn, id });
    return () => {
      this.timers = this.timers.filter((x) => x.id !== id);
    };
  }
  /** timers due now or earlier */
  get pendingTimers(): number {
    return this.timers.length;
  }
  /** moves time forward, firing due timers one by one (letting the promise queue settle between them) */
  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    for (;;) {
      await new Promise((r) => setImmediate(r));
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.timers[0];
      if (!next || next.at > target) break;
      this.timers.shift();
      this.t = Math.max(this.t, next.at);
      next.fn();
    }
    this.t = target;
    await new Promise((r) => setImmediate(r));
  }
}
