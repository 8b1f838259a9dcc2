import { IsInt, IsObject, JSONSchema, Max, Min, ValidateBy } from '@anchorflow/plugin-sdk';
import type { CasperNetworkConfig } from './casper.js';

export interface NetworkConfig {
  /** JSON-RPC URLs, tried in order; a failing one hands over to the next */
  rpcUrls: string[];
}

function networksProblem(value: unknown): string | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return 'must be an object of network name → { rpcUrls: [...] }';
  for (const [name, net] of Object.entries(value as Record<string, unknown>)) {
    const urls = (net as { rpcUrls?: unknown } | null)?.rpcUrls;
    if (!Array.isArray(urls) || urls.length === 0) return `${name}.rpcUrls must be a non-empty list of URLs`;
    for (const [i, u] of urls.entries()) {
      const ok = typeof u === 'string' && URL.canParse(u) && /^https?:$/.test(new URL(u).protocol);
      if (!ok) return `${name}.rpcUrls[${i}] must be an http(s) URL, got ${JSON.stringify(u)}`;
    }
    const extra = Object.keys(net as object).filter((k) => k !== 'rpcUrls');
    if (extra.length) return `${name}.${extra[0]} is not a known key`;
  }
  return undefined;
}

function casperNetworksProblem(value: unknown): string | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return 'must be an object of network name → { sidecarUrl }';
  for (const [name, net] of Object.entries(value as Record<string, unknown>)) {
    const url = (net as { sidecarUrl?: unknown } | null)?.sidecarUrl;
    if (typeof url !== 'string' || !URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) return `${name}.sidecarUrl must be the sidecar's http(s) base URL, got ${JSON.stringify(url)}`;
    const extra = Object.keys(net as object).filter((k) => k !== 'sidecarUrl');
    if (extra.length) return `${name}.${extra[0]} is not a known key`;
  }
  return undefined;
}

/**
 * `pluginConfig.payment-observer` in the daemon's config. Example:
 * `{ networks: { local: { rpcUrls: ["http://127.0.0.1:8545", "http://127.0.0.1:8546"] } } }`.
 */
export class PaymentObserverConfig {
  @JSONSchema({ description: 'EVM networks by name (the trigger param `network`), each with its RPC URLs in failover order.' })
  @IsObject()
  @ValidateBy({ name: 'networks', validator: { validate: (v: unknown) => networksProblem(v) === undefined, defaultMessage: (a) => `networks.${networksProblem(a?.value)}` } })
  networks: Record<string, NetworkConfig> = {};

  @JSONSchema({ description: 'Casper networks by name (the param `network` of payments.trigger.casper), each with its sidecar base URL (SSE at /events, JSON-RPC at /rpc).' })
  @IsObject()
  @ValidateBy({ name: 'casperNetworks', validator: { validate: (v: unknown) => casperNetworksProblem(v) === undefined, defaultMessage: (a) => `casperNetworks.${casperNetworksProblem(a?.value)}` } })
  casperNetworks: Record<string, CasperNetworkConfig> = {};

  @JSONSchema({ description: 'A Casper SSE stream that sends nothing (not even the sidecar keep-alive, every 15 s) this long is reconnected (ms).' })
  @IsInt()
  @Min(1_000)
  @Max(600_000)
  casperIdleTimeoutMs: number = 60_000;

  @JSONSchema({ description: 'How often the follower asks each network for new blocks (ms).' })
  @IsInt()
  @Min(20)
  @Max(600_000)
  pollIntervalMs: number = 1_000;

  @JSONSchema({ description: 'Largest block range of one eth_getLogs call; shrinks when the node refuses and grows back.' })
  @IsInt()
  @Min(1)
  @Max(100_000)
  maxBlockRange: number = 2_000;

  @JSONSchema({ description: 'How many recent block hashes are kept per observer; a reorg deeper than this cannot be rolled back.' })
  @IsInt()
  @Min(8)
  @Max(10_000)
  recentBlocks: number = 128;

  @JSONSchema({ description: 'Timeout of one RPC request (ms).' })
  @IsInt()
  @Min(100)
  @Max(120_000)
  rpcTimeoutMs: number = 10_000;
}
