import type { NatsConnection, Subscription } from 'nats';
import { type NodeLogger, type PluginState, silentLogger } from '@anchorflow/plugin-sdk';
import { type NodeCatalog, type RemoteNodeTypeDescriptor, checkRemoteDescriptor } from '@anchorflow/engine';
import { type AnnounceMessage, type QueryMessage, decodeAnnounce, encodeMessage } from './messages.js';
import { DEFAULT_PREFIX, type NatsNames, WIRE_VERSION, natsNames } from './subjects.js';

export interface LiveWorker {
  workerId: string;
  plugins: Array<{ name: string; version: string }>;
  nodeTypes: string[];
  heartbeatMs: number;
  lastSeen: number;
  /** considered gone after this (three missed heartbeats) */
  expiresAt: number;
}

export interface RemoteNodeRegistryOptions {
  nc: NatsConnection;
  /** announced types are registered here so workflows using them validate */
  catalog: NodeCatalog;
  prefix?: string;
  /** sent with registry queries (diagnostics only) */
  daemonId?: string;
  logger?: NodeLogger;
  /**
   * where announced descriptors are remembered across restarts (e.g. the daemon's plugin state for
   * `@anchorflow/registry`): remote types stay known, and executions using them wait for a worker
   * instead of failing validation, while no worker is up
   */
  store?: PluginState;
  /** a worker is gone after this many missed heartbeats (default 3) */
  ttlHeartbeats?: number;
  now?: () => number;
}


/**
 * Daemon side of `<p>.v1.registry.announce`: which workers are alive and which node types they serve.
 * Announced types are registered in the catalog (params validated with the announced JSON schema);
 * a type whose first live worker appears is reported to `onAvailable` listeners (the NATS transport
 * wakes executions waiting for it).
 */
export class RemoteNodeRegistry {
  readonly names: NatsNames;
  private readonly live = new Map<string, LiveWorker>();
  private readonly listeners = new Set<(nodeType: string) => void>();
  private readonly logger: NodeLogger;
  private readonly now: () => number;
  private readonly ttl: number;
  private sub?: Subscription;
  private sweeper?: NodeJS.Timeout;
  private readonly warned = new Set<string>();

  constructor(private readonly opts: RemoteNodeRegistryOptions) {
    this.names = natsNames(opts.prefix ?? DEFAULT_PREFIX);
    this.logger = opts.logger ?? silentLogger;
    this.now = opts.now ?? Date.now;
    this.ttl = opts.ttlHeartbeats ?? 3;
  }

  /** loads remembered types, listens to announcements and asks running workers to announce now */
  async start(): Promise<void> {
    if (this.sub) return;
    if (this.opts.store) {
      try {
        for (const { key, value } of await this.opts.store.list<{ plugin: string; descriptor: RemoteNodeTypeDescriptor }>('type:')) {
          const problems = checkRemoteDescriptor(value?.descriptor);
          if (problems.length || typeof value.plugin !== 'string') {
            this.logger.warn('ignoring a remembered remote node type', { key, reason: problems.join('; ') || 'no plugin name' });
            continue;
          }
          this.opts.catalog.registerRemote(value.descriptor, value.plugin);
        }
      } catch (err) {
        this.logger.warn('could not load remembered remote node types', { err: String(err) });
      }
    }
    this.sub = this.opts.nc.subscribe(this.names.announce, {
      callback: (err, msg) => {
        if (err) return this.logger.warn('announce subscription error', { err: String(err) });
        try {
          this.onAnnounce(msg.data);
        } catch (e) {
          this.logger.error('announce handling failed', { err: String(e) });
        }
      },
    });
    this.sweeper = setInterval(() => this.sweep(), 1000);
    this.sweeper.unref();
    this.query();
  }

  /** asks every worker to announce at once and waits `windowMs` for the answers (call before resuming executions) */
  async discover(windowMs = 1000): Promise<void> {
    this.query();
    await this.opts.nc.flush().catch(() => undefined);
    await new Promise((r) => setTimeout(r, windowMs));
  }

  private query(): void {
    try {
      this.opts.nc.publish(this.names.query, encodeMessage({ v: WIRE_VERSION, daemonId: this.opts.daemonId ?? 'unknown' } satisfies QueryMessage));
    } catch (err) {
      this.logger.warn('registry query not sent', { err: String(err) });
    }
  }

  /** at least one worker serving this node type announced itself recently */
  hasLiveWorker(nodeType: string): boolean {
    const now = this.now();
    for (const w of this.live.values()) if (w.expiresAt > now && w.nodeTypes.includes(nodeType)) return true;
    return false;
  }

  liveWorkers(nodeType?: string): LiveWorker[] {
    const now = this.now();
    return [...this.live.values()].filter((w) => w.expiresAt > now && (nodeType === undefined || w.nodeTypes.includes(nodeType)));
  }

  /** called with a node type when its first live worker appears */
  onAvailable(listener: (nodeType: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async stop(): Promise<void> {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    this.sub?.unsubscribe();
    this.sub = undefined;
  }

  /** Handles one announcement (public for tests and for feeding announcements from elsewhere). */
  onAnnounce(data: Uint8Array): void {
    const decoded = decodeAnnounce(data);
    if (!decoded.ok) {
      const key = decoded.reason.slice(0, 200);
      if (!this.warned.has(key)) {
        this.warned.add(key);
        this.logger.warn('rejected a malformed worker announcement', { reason: decoded.reason });
      }
      return;
    }
    const a: AnnounceMessage = decoded.value;
    for (const r of decoded.rejected ?? []) {
      const key = `${a.workerId}|${String(r.type)}`;
      if (!this.warned.has(key)) {
        this.warned.add(key);
        this.logger.warn('worker announced an invalid node type; ignored', { workerId: a.workerId, nodeType: r.type, reason: r.reason });
      }
    }
    if (a.leaving) {
      if (this.live.delete(a.workerId)) this.logger.info('worker left', { workerId: a.workerId });
      return;
    }
    const before = new Set(a.nodeTypes.filter((t) => this.hasLiveWorker(t.type)).map((t) => t.type));
    const served: string[] = [];
    for (const { plugin, ...descriptor } of a.nodeTypes) {
      const current = this.opts.catalog.remoteDescriptor(descriptor.type);
      if (current && this.keepsCurrent(current, descriptor, a.workerId)) {
        // version skew during a rolling upgrade: workflows keep validating against the newer announcement
        served.push(descriptor.type);
        continue;
      }
      const result = this.opts.catalog.registerRemote(descriptor, plugin);
      if (result === 'local') {
        // this daemon runs the type itself; the worker is not used for it
        continue;
      }
      served.push(descriptor.type);
      if (result === 'added' || result === 'updated') {
        this.logger.info(result === 'added' ? 'remote node type registered' : 'remote node type updated', { nodeType: descriptor.type, version: descriptor.version, plugin, workerId: a.workerId });
        void this.opts.store?.set(`type:${descriptor.type}`, { plugin, descriptor }).catch((err) => this.logger.warn('could not remember a remote node type', { nodeType: descriptor.type, err: String(err) }));
      }
    }
    const now = this.now();
    const known = this.live.has(a.workerId);
    this.live.set(a.workerId, { workerId: a.workerId, plugins: a.plugins, nodeTypes: served, heartbeatMs: a.heartbeatMs, lastSeen: now, expiresAt: now + this.ttl * a.heartbeatMs });
    if (!known) this.logger.info('worker joined', { workerId: a.workerId, nodeTypes: served.length, plugins: a.plugins.map((p) => `${p.name}@${p.version}`) });
    for (const type of served) {
      if (before.has(type)) continue;
      for (const l of this.listeners) {
        try {
          l(type);
        } catch (err) {
          this.logger.error('node type availability listener failed', { nodeType: type, err: String(err) });
        }
      }
    }
  }

  /**
   * An announced definition replaces the registered one when it is newer, or when no other live worker
   * serves the type (then it is what runs). Otherwise the registered one stays, so workers of two
   * releases during a rolling upgrade do not make the definition flip at every heartbeat.
   */
  private keepsCurrent(current: RemoteNodeTypeDescriptor, announced: RemoteNodeTypeDescriptor, workerId: string): boolean {
    if (announced.version > current.version) return false;
    if (!this.liveWorkers(announced.type).some((w) => w.workerId !== workerId)) return false;
    if (JSON.stringify(current) !== JSON.stringify(announced)) {
      const key = `skew|${workerId}|${announced.type}|${announced.version}`;
      if (!this.warned.has(key)) {
        this.warned.add(key);
        this.logger.warn('worker announces another definition of a node type; validation keeps the registered one', { workerId, nodeType: announced.type, announcedVersion: announced.version, registeredVersion: current.version });
      }
    }
    return true;
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, w] of this.live) {
      if (w.expiresAt <= now) {
        this.live.delete(id);
        this.logger.warn('worker stopped announcing; considered gone', { workerId: id, lastSeen: new Date(w.lastSeen).toISOString() });
      }
    }
  }
}
