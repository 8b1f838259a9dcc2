import { defineService, type CredentialsAccessor, type NodeLogger, type PluginState, type ServiceHealth } from '@anchorflow/plugin-sdk';
import { NETWORKS_KEY, type ChainDriver } from './batcher/batch.js';
import { NetworkBatcher } from './batcher/network-batcher.js';
import { parseChainAnchorConfig, type CasperChainConfig, type ChainAnchorConfig, type ChainConfig } from './config.js';
import { CasperDriver, checkCasperProof } from './casper/casper-driver.js';
import type { CasperAnchorClient, CasperClientOptionsLike } from './casper/casper-port.js';
import { NetworkHealth } from './health.js';
import { EvmChain } from './evm/evm-chain.js';
import { EvmDriver } from './evm/evm-driver.js';
import { checkEvmProof } from './evm/evm-verify.js';
import type { Proof } from './proof/proof-format.js';
import type { Check, OnlineChecker } from './proof/verify.js';

/** The non-secret part of each network, published in plugin state for the nodes. */
export type PublishedNetworks = Record<string, { kind: 'evm'; rpcUrls: string[]; chainId: number; registry?: string; confirmations: number; rpcTimeoutMs: number } | { kind: 'casper'; confirmations: number; nodeUrl: string; sidecarUrl?: string; chainName: string; contractHash: string; sidecarTimeoutMs: number; nodeTimeoutMs: number }>;

/**
 * The subset of the SDK's PluginMetrics (issue 14) the plugin reports through; the host's ServiceContext
 * provides it once it carries metrics (names end up as anchorflow_plugin_chain_anchor_<name>).
 */
export interface AnchorMetrics {
  counter(name: string, help: string, labelNames?: readonly string[]): { inc(labels?: Record<string, string | number>, value?: number): void };
  histogram(name: string, help: string, labelNames?: readonly string[], buckets?: readonly number[]): { observe(value: number, labels?: Record<string, string | number>): void };
}

/** What the batcher service gets from the host (the SDK's ServiceContext has these and more). */
export interface AnchorServiceContext {
  readonly metrics?: AnchorMetrics;
  /** where each network's RPC state is reported (the daemon's readiness); none in bare tests */
  readonly health?: ServiceHealth;
  readonly config: unknown;
  readonly logger: NodeLogger;
  readonly credentials: CredentialsAccessor;
  readonly state: PluginState;
  readonly signal: AbortSignal;
  now(): number;
  resume(token: string, data?: unknown): Promise<boolean>;
}

/** Builds a network's chain driver; Casper networks get theirs from the casper adapter when it is wired. */
export type DriverFactory = (network: ChainConfig, ctx: AnchorServiceContext, hooks?: DriverHooks) => Promise<ChainDriver>;

/** what the service offers a driver: `wake` asks for a step now (an SSE event moved a batch) */
export interface DriverHooks {
  wake(): void;
}

// The Casper client lives in its own module (casper-js-sdk is heavy): loaded only when a Casper network is configured.
const CASPER_CLIENT_MODULE = './casper/casper-client.js';

async function casperClient(network: CasperChainConfig, signer: { privateKeyPem: string; algorithm: 'ed25519' | 'secp256k1' }, metrics?: AnchorMetrics): Promise<CasperAnchorClient> {
  let mod: { CasperClient: new (o: CasperClientOptionsLike) => CasperAnchorClient };
  try {
    mod = await import(CASPER_CLIENT_MODULE);
  } catch (err) {
    throw new Error(`network ${network.name}: the Casper client is not available in this build (${(err as Error).message})`, { cause: err });
  }
  return new mod.CasperClient({
    nodeUrl: network.nodeUrl,
    ...(network.sidecarUrl ? { sidecarUrl: network.sidecarUrl } : {}),
    ...(network.sseUrl ? { sseUrl: network.sseUrl } : {}),
    chainName: network.chainName,
    contractHash: network.contractHash,
    paymentMotes: network.paymentMotes,
    legacyDeploys: network.legacyDeploys,
    sidecarTimeoutMs: network.sidecarTimeoutMs,
    nodeTimeoutMs: network.nodeTimeoutMs,
    signer,
    ...(metrics ? { metrics: casperMetrics(metrics, network.name) } : {}),
  });
}

/** the Casper client's fallback count and latency per adapter, as plugin metrics */
function casperMetrics(metrics: AnchorMetrics, network: string): NonNullable<CasperClientOptionsLike['metrics']> {
  const fallbacks = metrics.counter('casper_fallback_total', 'Casper calls that fell back from the sidecar to the node', ['network', 'op']);
  const latency = metrics.histogram('casper_request_seconds', 'Casper RPC latency per adapter', ['network', 'adapter', 'op']);
  return {
    fallback: (op) => fallbacks.inc({ network, op }),
    latency: (adapter, op, ms) => latency.observe(ms / 1000, { network, adapter, op }),
  };
}

/** a client for reads only (status, blocks): it signs nothing, so a throwaway key satisfies its constructor */
async function casperReadClient(n: Extract<PublishedNetworks[string], { kind: 'casper' }>): Promise<CasperAnchorClient> {
  const sdk = (await import('casper-js-sdk')).default;
  const pem = sdk.PrivateKey.generate(sdk.KeyAlgorithm.ED25519).toPem();
  return casperClient({ name: 'verify', kind: 'casper', nodeUrl: n.nodeUrl, ...(n.sidecarUrl ? { sidecarUrl: n.sidecarUrl } : {}), chainName: n.chainName, contractHash: n.contractHash, paymentMotes: '1', legacyDeploys: false, sidecarTimeoutMs: n.sidecarTimeoutMs, nodeTimeoutMs: n.nodeTimeoutMs, confirmations: n.confirmations, batchSize: 1, maxWaitMs: 0, pollMs: 1000, healthCheckMs: 15_000 }, { privateKeyPem: pem, algorithm: 'ed25519' });
}

export const casperDriverFactory: DriverFactory = async (network, ctx, hooks) => {
  if (network.kind !== 'casper') throw new Error(`network ${network.name}: not a Casper network`);
  if (!network.signer) throw new Error(`pluginConfig.chain-anchor.chains.${network.name}.signer is not set: name a casper-signer credential`);
  const cred = await ctx.credentials.get<{ privateKeyPem?: string; algorithm?: string }>(network.signer);
  if (typeof cred.privateKeyPem !== 'string' || !cred.privateKeyPem.includes('PRIVATE KEY')) throw new Error(`credential "${network.signer}" (casper-signer) needs privateKeyPem: a PEM private key`);
  if (cred.algorithm !== 'ed25519' && cred.algorithm !== 'secp256k1') throw new Error(`credential "${network.signer}" (casper-signer) needs algorithm: ed25519 or secp256k1`);
  const client = await casperClient(network, { privateKeyPem: cred.privateKeyPem, algorithm: cred.algorithm }, ctx.metrics);
  return new CasperDriver(network, client, ctx.logger, () => ctx.now(), { state: ctx.state, signal: ctx.signal, ...(hooks ? { wake: () => hooks.wake() } : {}) });
};

/** the driver for a configured network: EVM (ethers) or Casper (the casper client) */
export const chainDriverFactory: DriverFactory = async (network, ctx, hooks) => {
  if (network.kind === 'casper') return casperDriverFactory(network, ctx, hooks);
  if (!network.registry) throw new Error(`pluginConfig.chain-anchor.chains.${network.name}.registry is not set: deploy one with \`anchorflow chain deploy-registry --network ${network.name}\``);
  if (!network.signer) throw new Error(`pluginConfig.chain-anchor.chains.${network.name}.signer is not set: name an evm-signer credential`);
  const cred = await ctx.credentials.get<{ privateKey?: string }>(network.signer);
  if (typeof cred.privateKey !== 'string' || !/^(0x)?[0-9a-fA-F]{64}$/.test(cred.privateKey)) throw new Error(`credential "${network.signer}" (evm-signer) needs privateKey: 32 bytes as 64 hex digits`);
  return new EvmDriver(network, cred.privateKey.startsWith('0x') ? cred.privateKey : `0x${cred.privateKey}`, ctx.logger, () => ctx.now());
};

export function publishedNetworks(config: ChainAnchorConfig): PublishedNetworks {
  const out: PublishedNetworks = {};
  for (const [name, c] of Object.entries(config.chains)) {
    out[name] = c.kind === 'evm' ? { kind: 'evm', rpcUrls: c.rpcUrls, chainId: c.chainId, ...(c.registry ? { registry: c.registry } : {}), confirmations: c.confirmations, rpcTimeoutMs: c.rpcTimeoutMs } : { kind: 'casper', confirmations: c.confirmations, nodeUrl: c.nodeUrl, ...(c.sidecarUrl ? { sidecarUrl: c.sidecarUrl } : {}), chainName: c.chainName, contractHash: c.contractHash, sidecarTimeoutMs: c.sidecarTimeoutMs, nodeTimeoutMs: c.nodeTimeoutMs };
  }
  return out;
}

/** Online checks by the proof's network name, with the RPC URLs of the config. */
export function onlineCheckerFor(networks: PublishedNetworks, overrides: { rpcUrl?: string; confirmations?: number } = {}): OnlineChecker {
  return async (proof: Proof): Promise<Check[]> => {
    const n = networks[proof.anchor.network];
    if (proof.anchor.chain === 'evm') {
      const urls = overrides.rpcUrl ? [overrides.rpcUrl] : n?.kind === 'evm' ? n.rpcUrls : undefined;
      if (!urls) return [{ name: 'network', ok: false, detail: `unknown network "${proof.anchor.network}": configure pluginConfig.chain-anchor.chains.${proof.anchor.network} (or pass an RPC URL)` }];
      const chain = new EvmChain({ rpcUrls: urls, chainId: proof.anchor.chainId!, rpcTimeoutMs: n?.kind === 'evm' ? n.rpcTimeoutMs : 10_000 });
      try {
        return await checkEvmProof(proof, chain, overrides.confirmations ?? n?.confirmations ?? 1);
      } finally {
        chain.destroy();
      }
    }
    if (n?.kind !== 'casper') return [{ name: 'network', ok: false, detail: `unknown Casper network "${proof.anchor.network}": configure pluginConfig.chain-anchor.chains.${proof.anchor.network}` }];
    const client = await casperReadClient(n);
    return checkCasperProof(proof, client, overrides.confirmations ?? n.confirmations);
  };
}

const IDLE_DRIVER_RETRY_MS = 30_000;

/**
 * Builds the real driver at its first use and again after a failure: a signing credential created
 * after the daemon started (or fixed later) is picked up without restarting the service.
 */
function lazyDriver(make: () => Promise<ChainDriver>, now: () => number): ChainDriver & { resolved(): ChainDriver | undefined } {
  let driver: ChainDriver | undefined;
  let making: Promise<ChainDriver> | undefined;
  let lastIdleAttempt = -Infinity;
  return {
    async advance(batch, save) {
      if (!driver) {
        making ??= make().finally(() => (making = undefined));
        driver = await making;
      }
      return driver.advance(batch, save);
    },
    idle: async () => {
      if (!driver && now() - lastIdleAttempt >= IDLE_DRIVER_RETRY_MS) {
        // built ahead of the first batch (a Casper driver starts following the sidecar's stream); a missing
        // credential is not an error while there is nothing to anchor: the first batch reports it
        lastIdleAttempt = now();
        try {
          making ??= make().finally(() => (making = undefined));
          driver = await making;
        } catch {
          return;
        }
      }
      await driver?.idle?.();
    },
    close: () => driver?.close(),
    resolved: () => driver,
  };
}

/**
 * The batcher service: one NetworkBatcher per configured network, stepped every pollMs (at once again
 * while there is work). Meant to run one-per-cluster (it owns the signing keys' nonces).
 */
export class AnchorService {
  readonly batchers = new Map<string, { batcher: NetworkBatcher; driver: ChainDriver & { resolved(): ChainDriver | undefined }; pollMs: number; health: NetworkHealth }>();
  private stopped = false;
  private loop?: Promise<void>;
  private healthLoop?: Promise<void>;
  private wakeHealth?: () => void;
  private wake?: () => void;
  /** set when a wake-up came while a step was running: the loop steps again at once instead of sleeping */
  private woken = false;

  constructor(
    private readonly ctx: AnchorServiceContext,
    private readonly driverFor: DriverFactory = chainDriverFactory,
  ) {}

  async init(): Promise<ChainAnchorConfig> {
    const config = parseChainAnchorConfig(this.ctx.config);
    await this.ctx.state.set(NETWORKS_KEY, publishedNetworks(config));
    for (const network of Object.values(config.chains)) {
      const driver = lazyDriver(() => this.driverFor(network, this.ctx, { wake: () => this.wakeUp() }), () => this.ctx.now());
      this.batchers.set(network.name, { batcher: new NetworkBatcher(network.name, this.ctx, driver, network), driver, pollMs: network.pollMs, health: new NetworkHealth(network) });
    }
    this.ctx.logger.info('chain-anchor batchers ready', { event: 'chain.service.started', networks: [...this.batchers.keys()] });
    return config;
  }

  /** one step of every network; errors are logged and retried on the next step, the daemon keeps running */
  async tickAll(): Promise<boolean> {
    let more = false;
    for (const [name, b] of this.batchers) {
      try {
        if (await b.batcher.tick()) more = true;
      } catch (err) {
        this.ctx.logger.warn('chain-anchor step failed; retrying', { event: 'chain.step.failed', network: name, error: (err as Error).message });
      }
    }
    return more;
  }

  /** the report name of a network in ctx.health (readiness shows `chain-anchor:network:<name>`) */
  static healthName(network: string): string {
    return `network:${network}`;
  }

  /** probes every network's RPC endpoints once and reports each network's state */
  async probeAll(): Promise<void> {
    await Promise.all([...this.batchers].map(async ([name, b]) => {
      await b.health.probe();
      const driver = b.driver.resolved();
      const streamDown = driver instanceof CasperDriver && driver.stream ? driver.stream.unavailable : false;
      this.ctx.health?.report(AnchorService.healthName(name), b.health.report({ streamDown }));
    }));
  }

  start(): void {
    if (this.ctx.health && this.batchers.size > 0) {
      const everyMs = Math.min(...[...this.batchers.values()].map((b) => b.health.network.healthCheckMs));
      this.healthLoop = (async () => {
        while (!this.stopped && !this.ctx.signal.aborted) {
          try {
            await this.probeAll();
          } catch (err) {
            this.ctx.logger.warn('chain RPC health probe failed', { event: 'chain.health.failed', error: (err as Error).message });
          }
          await new Promise<void>((res) => {
            const t = setTimeout(res, everyMs);
            this.wakeHealth = () => {
              clearTimeout(t);
              res();
            };
          });
        }
      })();
    }
    const pollMs = Math.min(1000, ...[...this.batchers.values()].map((b) => b.pollMs));
    this.loop = (async () => {
      while (!this.stopped && !this.ctx.signal.aborted) {
        this.woken = false;
        const more = await this.tickAll();
        if (more || this.woken) continue;
        await new Promise<void>((res) => {
          const t = setTimeout(res, pollMs);
          this.wake = () => {
            clearTimeout(t);
            res();
          };
        });
      }
    })();
  }

  /** a step now (a driver learnt something that moves a batch), not at the next poll */
  wakeUp(): void {
    this.woken = true;
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    this.wakeHealth?.();
    await Promise.all([this.loop, this.healthLoop]);
    for (const name of this.batchers.keys()) this.ctx.health?.clear(AnchorService.healthName(name));
    for (const b of this.batchers.values()) b.driver.close();
  }
}

/** The service as the SDK's defineService expects it: start(ctx) → stop. */
export const batcherService = defineService<Record<string, unknown>>({
  name: 'batcher',
  scope: 'one-per-cluster',
  async start(ctx) {
    const service = new AnchorService(ctx);
    await service.init();
    service.start();
    return () => service.stop();
  },
});
