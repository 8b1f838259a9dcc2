import { JSONSchema, ValidateBy } from '@anchorflow/plugin-sdk';

/**
 * The plugin's config section (`pluginConfig.chain-anchor` in the daemon config):
 *
 *   chains:
 *     local:                         # the network name workflows use: chain.anchor {network: local}
 *       kind: evm
 *       rpcUrls: [http://127.0.0.1:8545, http://127.0.0.1:8546]
 *       chainId: 31337
 *       registry: "0x…"              # AnchorRegistry address (anchorflow chain deploy-registry)
 *       signer: anvil-key            # name of an `evm-signer` credential in the vault
 *       confirmations: 2
 *       batchSize: 10000             # close a batch at this many items…
 *       maxWaitMs: 2000              # …or when its oldest item waited this long
 *       feeBumpAfterMs: 60000        # re-price a transaction not mined after this long
 *       maxFeeGwei: 500              # …but never above this maxFeePerGas
 *       rpcTimeoutMs: 10000
 *       pollMs: 1000
 *       healthCheckMs: 15000         # probe each RPC URL this often for /health/ready
 *     casper-test:
 *       kind: casper
 *       nodeUrl: http://…:7777/rpc
 *       sidecarUrl: http://…:7778       # optional, base URL (/rpc, /events); tried first (2 s), the node is the fallback (10 s)
 *       sseUrl: http://…:19999/events   # optional, the sidecar's event stream when it is on its own port
 *       chainName: casper-test
 *       contractHash: "hash-…"         # stored contract with an `anchor` entry point
 *       paymentMotes: "2500000000"
 *       signer: casper-key             # a `casper-signer` credential
 *
 * `parseChainAnchorConfig` throws one ChainAnchorConfigError naming every bad key.
 */
export interface CommonChainConfig {
  name: string;
  signer?: string;
  confirmations: number;
  batchSize: number;
  maxWaitMs: number;
  pollMs: number;
  /** every RPC endpoint is probed this often for the daemon's readiness (ctx.health) */
  healthCheckMs: number;
}

export interface EvmChainConfig extends CommonChainConfig {
  kind: 'evm';
  rpcUrls: string[];
  chainId: number;
  registry?: string;
  feeBumpAfterMs: number;
  /** fee bumping stops at this maxFeePerGas (gwei): a stuck transaction never drains the key */
  maxFeeGwei: number;
  rpcTimeoutMs: number;
}

export interface CasperChainConfig extends CommonChainConfig {
  kind: 'casper';
  nodeUrl: string;
  sidecarUrl?: string;
  /** the sidecar's SSE endpoint when it is not `<origin of sidecarUrl>/events` (the sidecar serves SSE on its own port, 19999 by default) */
  sseUrl?: string;
  chainName: string;
  contractHash: string;
  paymentMotes: string;
  legacyDeploys: boolean;
  sidecarTimeoutMs: number;
  nodeTimeoutMs: number;
}

export type ChainConfig = EvmChainConfig | CasperChainConfig;

export interface ChainAnchorConfig {
  chains: Record<string, ChainConfig>;
}

export class ChainAnchorConfigError extends Error {
  readonly code = 'CHAIN_CONFIG_INVALID';
  constructor(readonly problems: Array<{ key: string; message: string }>) {
    super(`invalid chain-anchor config: ${problems.map((p) => `${p.key} ${p.message}`).join('; ')}`);
    this.name = 'ChainAnchorConfigError';
  }
}

export const CONFIG_PREFIX = 'pluginConfig.chain-anchor';
const NAME_RE = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const COMMON = ['kind', 'signer', 'confirmations', 'batchSize', 'maxWaitMs', 'pollMs', 'healthCheckMs'];
const EVM_KEYS = new Set([...COMMON, 'rpcUrls', 'chainId', 'registry', 'feeBumpAfterMs', 'maxFeeGwei', 'rpcTimeoutMs']);
const CASPER_KEYS = new Set([...COMMON, 'nodeUrl', 'sidecarUrl', 'sseUrl', 'chainName', 'contractHash', 'paymentMotes', 'legacyDeploys', 'sidecarTimeoutMs', 'nodeTimeoutMs']);

export function parseChainAnchorConfig(raw: unknown, prefix = CONFIG_PREFIX): ChainAnchorConfig {
  const problems: Array<{ key: string; message: string }> = [];
  const bad = (key: string, message: string) => void problems.push({ key, message });
  const chains: Record<string, ChainConfig> = {};
  if (raw === undefined || raw === null) return { chains };
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ChainAnchorConfigError([{ key: prefix, message: 'must be an object' }]);
  const section = raw as Record<string, unknown>;
  for (const k of Object.keys(section)) if (k !== 'chains') bad(`${prefix}.${k}`, 'is not a chain-anchor setting (only "chains")');
  const rawChains = section.chains ?? {};
  if (typeof rawChains !== 'object' || rawChains === null || Array.isArray(rawChains)) throw new ChainAnchorConfigError([{ key: `${prefix}.chains`, message: 'must be an object keyed by network name' }]);
  for (const [name, value] of Object.entries(rawChains as Record<string, unknown>)) {
    const at = `${prefix}.chains.${name}`;
    if (!NAME_RE.test(name)) bad(at, 'network names are lowercase letters, digits, - and _ (at most 63)');
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      bad(at, 'must be an object');
      continue;
    }
    const c = value as Record<string, unknown>;
    const int = (key: string, def: number, min: number, max: number): number => {
      const v = c[key] ?? def;
      if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) {
        bad(`${at}.${key}`, `must be an integer from ${min} to ${max} (got ${JSON.stringify(c[key])})`);
        return def;
      }
      return v as number;
    };
    const str = (key: string, re: RegExp, what: string, required: boolean): string | undefined => {
      const v = c[key];
      if (v === undefined || v === null) {
        if (required) bad(`${at}.${key}`, `is required (${what})`);
        return undefined;
      }
      if (typeof v !== 'string' || !re.test(v)) {
        bad(`${at}.${key}`, `must be ${what} (got ${JSON.stringify(v)?.slice(0, 80)})`);
        return undefined;
      }
      return v;
    };
    const url = (key: string, v: unknown, keyPath: string): string | undefined => {
      if (typeof v !== 'string' || !/^https?:\/\/[^\s]+$/.test(v) || !URL.canParse(v)) {
        bad(keyPath, `must be an http(s) URL (got ${JSON.stringify(v)?.slice(0, 80)})`);
        return undefined;
      }
      return v;
    };
    const common = {
      name,
      signer: str('signer', /^[\w.:-]{1,128}$/, 'a credential name', false),
      confirmations: int('confirmations', 1, 1, 1000),
      batchSize: int('batchSize', 10_000, 1, 100_000),
      maxWaitMs: int('maxWaitMs', 2_000, 0, 86_400_000),
      pollMs: int('pollMs', 1_000, 10, 600_000),
      healthCheckMs: int('healthCheckMs', 15_000, 100, 3_600_000),
    };
    if (c.kind === 'evm') {
      for (const k of Object.keys(c)) if (!EVM_KEYS.has(k)) bad(`${at}.${k}`, 'is not an evm network setting');
      let rpcUrls: string[] = [];
      if (!Array.isArray(c.rpcUrls) || c.rpcUrls.length === 0) bad(`${at}.rpcUrls`, 'must be a non-empty list of http(s) URLs');
      else rpcUrls = c.rpcUrls.map((u, i) => url('rpcUrls', u, `${at}.rpcUrls[${i}]`) ?? '');
      const registry = str('registry', /^0x[0-9a-fA-F]{40}$/, 'a 0x address of 40 hex digits', false);
      chains[name] = {
        ...common,
        kind: 'evm',
        rpcUrls,
        chainId: int('chainId', NaN, 1, Number.MAX_SAFE_INTEGER),
        ...(registry ? { registry: registry.toLowerCase() } : {}),
        feeBumpAfterMs: int('feeBumpAfterMs', 60_000, 100, 86_400_000),
        maxFeeGwei: int('maxFeeGwei', 500, 1, 1_000_000),
        rpcTimeoutMs: int('rpcTimeoutMs', 10_000, 100, 600_000),
      };
    } else if (c.kind === 'casper') {
      for (const k of Object.keys(c)) if (!CASPER_KEYS.has(k)) bad(`${at}.${k}`, 'is not a casper network setting');
      const sidecarUrl = c.sidecarUrl === undefined ? undefined : url('sidecarUrl', c.sidecarUrl, `${at}.sidecarUrl`);
      const sseUrl = c.sseUrl === undefined ? undefined : url('sseUrl', c.sseUrl, `${at}.sseUrl`);
      if (c.legacyDeploys !== undefined && typeof c.legacyDeploys !== 'boolean') bad(`${at}.legacyDeploys`, 'must be true or false');
      chains[name] = {
        ...common,
        kind: 'casper',
        nodeUrl: url('nodeUrl', c.nodeUrl, `${at}.nodeUrl`) ?? '',
        ...(sidecarUrl ? { sidecarUrl } : {}),
        ...(sseUrl ? { sseUrl } : {}),
        chainName: str('chainName', /^[\w-]{1,64}$/, 'the chain name, e.g. casper-test', true) ?? '',
        contractHash: (str('contractHash', /^(hash-|contract-)?[0-9a-fA-F]{64}$/, 'a contract hash (64 hex digits, optionally hash-…)', true) ?? '').replace(/^(hash-|contract-)/, '').toLowerCase(),
        paymentMotes: str('paymentMotes', /^[1-9]\d{0,30}$/, 'a positive integer amount of motes, as a string', true) ?? '',
        legacyDeploys: c.legacyDeploys === true,
        sidecarTimeoutMs: int('sidecarTimeoutMs', 2_000, 100, 600_000),
        nodeTimeoutMs: int('nodeTimeoutMs', 10_000, 100, 600_000),
      };
    } else {
      bad(`${at}.kind`, `must be "evm" or "casper" (got ${JSON.stringify(c.kind)})`);
    }
  }
  if (problems.length) throw new ChainAnchorConfigError(problems);
  return { chains };
}

/**
 * The config DTO the plugin loader checks (a bad section fails the plugin at start-up, INVALID_CONFIG):
 * the per-kind rules live in parseChainAnchorConfig, whose messages name each bad key in full.
 */
export class ChainAnchorConfigDto {
  @JSONSchema({ description: 'Networks by name: {kind: evm|casper, …} (see the plugin README)' })
  @ValidateBy({
    name: 'chainAnchorChains',
    validator: {
      validate: (value: unknown) => chainProblems(value).length === 0,
      defaultMessage: (args) => chainProblems(args?.value).map((p) => `${p.key} ${p.message}`).join('; '),
    },
  })
  chains: Record<string, unknown> = {};
}

function chainProblems(chains: unknown): Array<{ key: string; message: string }> {
  try {
    parseChainAnchorConfig({ chains });
    return [];
  } catch (err) {
    if (err instanceof ChainAnchorConfigError) return err.problems;
    throw err;
  }
}
