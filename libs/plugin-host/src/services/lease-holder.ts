import type { NamedLeases } from '@anchorflow/engine';
import type { NodeLogger } from '@anchorflow/plugin-sdk';

export interface LeaseHolderOptions {
  leases: NamedLeases;
  /** this process (daemon id, worker id) */
  holder: string;
  /** a holder that stops renewing loses the lease after this; it is renewed every ttlMs/3 */
  ttlMs: number;
  logger: NodeLogger;
  /** called when the lease is taken: start the work */
  onAcquired(): void;
  /** called when the lease is lost (or given up on stop): stop the work */
  onLost(): Promise<void>;
}

/**
 * Keeps trying to hold the lease `name`; runs the work while it does. A holder that cannot renew (the
 * database is unreachable) gives the work up once its lease has certainly expired, so two processes
 * never believe they hold it for longer than one renewal interval.
 */
export class LeaseHolder {
  private timer: NodeJS.Timeout | undefined;
  private held = false;
  private lastRenewed = 0;
  private stopped = false;
  private ticking: Promise<void> = Promise.resolve();

  constructor(readonly name: string, private readonly opts: LeaseHolderOptions) {}

  get holding(): boolean {
    return this.held;
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.ticking;
    if (this.held) {
      this.held = false;
      await this.opts.onLost();
      await this.opts.leases.release(this.name, this.opts.holder).catch((err: unknown) => this.opts.logger.warn('lease not released', { lease: this.name, err: String(err) }));
    }
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick().finally(() => this.schedule(Math.max(50, Math.floor(this.opts.ttlMs / 3))));
    }, ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    const started = Date.now();
    let ok: boolean;
    try {
      ok = await this.opts.leases.acquire(this.name, this.opts.holder, this.opts.ttlMs);
    } catch (err) {
      if (this.held && started - this.lastRenewed >= this.opts.ttlMs) {
        this.opts.logger.warn('lease could not be renewed in time; giving the work up', { lease: this.name, err: String(err) });
        this.held = false;
        await this.opts.onLost();
      } else {
        this.opts.logger.warn('lease check failed', { lease: this.name, err: String(err) });
      }
      return;
    }
    if (this.stopped) {
      if (ok && !this.held) await this.opts.leases.release(this.name, this.opts.holder).catch(() => undefined);
      return;
    }
    if (ok) {
      this.lastRenewed = started;
      if (!this.held) {
        this.held = true;
        this.opts.logger.info('lease acquired', { lease: this.name, holder: this.opts.holder });
        this.opts.onAcquired();
      }
    } else if (this.held) {
      this.held = false;
      this.opts.logger.warn('lease lost to another holder; stopping the work', { lease: this.name });
      await this.opts.onLost();
    }
  }
}
