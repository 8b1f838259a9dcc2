/**
 * The RPC state of each configured network, reported through the SDK's ctx.health (the daemon's
 * readiness lists it as `chain-anchor:network:<name>`): every RPC endpoint is probed every
 * `healthCheckMs` with one cheap call that also proves it is the configured chain (EVM `eth_chainId`,
 * Casper `info_get_status` → chainspec_name). All endpoints answering → ok; some failing → degraded,
 * naming them; none → down. An endpoint flips only after two failures (or one success) in a row
 * (EndpointsHealth), so one slow answer does not make readiness flap. Labels name the config key and the
 * URL's origin only: readiness is public, and RPC URLs often carry an API key in their path.
 */
import { EndpointsHealth, type HealthReport } from '@anchorflow/plugin-sdk';
import type { ChainConfig } from './config.js';
import { redactUrl } from './evm/failover-rpc.js';

export interface Probe {
  label: string;
  run(): Promise<void>;
}

export class ProbeError extends Error {}

async function jsonRpc(url: string, method: string, timeoutMs: number): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: [] }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    if (e.name === 'TimeoutError' || e.name === 'AbortError') throw new ProbeError(`${method}: no answer within ${timeoutMs} ms`);
    throw new ProbeError(`${method}: ${e.cause?.code ?? 'unreachable'}`);
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new ProbeError(`${method}: HTTP ${res.status}`);
  }
  let body: { result?: unknown; error?: { code?: unknown; message?: unknown } };
  try {
    body = (await res.json()) as typeof body;
  } catch (err) {
    const e = err as Error;
    if (e.name === 'TimeoutError' || e.name === 'AbortError') throw new ProbeError(`${method}: no answer within ${timeoutMs} ms`);
    throw new ProbeError(`${method}: the answer is not JSON`);
  }
  if (body?.error) throw new ProbeError(`${method}: JSON-RPC error ${String(body.error.code)} ${String(body.error.message).slice(0, 120)}`);
  if (!body || typeof body !== 'object' || !('result' in body)) throw new ProbeError(`${method}: the answer is not a JSON-RPC result`);
  return body.result;
}

/** the node's JSON-RPC path: `/rpc` when the URL has none (as the Casper client does) */
function casperRpcUrl(raw: string): string {
  const u = new URL(raw);
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/rpc';
  return u.toString();
}

export function probesFor(network: ChainConfig): Probe[] {
  if (network.kind === 'evm') {
    return network.rpcUrls.map((url, i) => ({
      label: `rpcUrls[${i}] ${redactUrl(url)}`,
      run: async () => {
        const id = await jsonRpc(url, 'eth_chainId', network.rpcTimeoutMs);
        if (typeof id !== 'string' || !/^0x[0-9a-f]+$/i.test(id)) throw new ProbeError('eth_chainId: the answer is not a quantity');
        if (Number(BigInt(id)) !== network.chainId) throw new ProbeError(`eth_chainId: chain ${Number(BigInt(id))}, not the configured ${network.chainId}`);
      },
    }));
  }
  const casper = (key: string, url: string, timeoutMs: number): Probe => ({
    label: `${key} ${redactUrl(url)}`,
    run: async () => {
      const status = (await jsonRpc(casperRpcUrl(url), 'info_get_status', timeoutMs)) as { chainspec_name?: unknown } | null;
      if (!status || typeof status !== 'object') throw new ProbeError('info_get_status: the answer is not a status object');
      if (status.chainspec_name !== network.chainName) throw new ProbeError(`info_get_status: chain ${JSON.stringify(status.chainspec_name)}, not the configured ${JSON.stringify(network.chainName)}`);
    },
  });
  return [
    ...(network.sidecarUrl ? [casper('sidecarUrl', network.sidecarUrl, network.sidecarTimeoutMs)] : []),
    casper('nodeUrl', network.nodeUrl, network.nodeTimeoutMs),
  ];
}

/** one network's endpoints, probed together; `report()` is what goes to ctx.health */
export class NetworkHealth {
  private readonly probes: Probe[];
  private readonly endpoints: EndpointsHealth;

  constructor(readonly network: ChainConfig) {
    this.probes = probesFor(network);
    this.endpoints = new EndpointsHealth(this.probes.map((p) => p.label));
  }

  async probe(): Promise<void> {
    await Promise.all(this.probes.map(async (p) => {
      try {
        await p.run();
        this.endpoints.succeeded(p.label);
      } catch (err) {
        this.endpoints.failed(p.label, err instanceof ProbeError ? err.message : 'probe failed');
      }
    }));
  }

  /** `streamDown`: a Casper network whose sidecar event stream is unavailable (it is followed by polling) */
  report(extra?: { streamDown?: boolean }): HealthReport {
    const r = this.endpoints.report();
    if (!extra?.streamDown || this.network.kind !== 'casper') return r;
    const events = this.network.sseUrl ?? (this.network.sidecarUrl ? new URL('/events', this.network.sidecarUrl).toString() : undefined);
    if (!events) return r;
    const components = { ...r.components, [`${this.network.sseUrl ? 'sseUrl' : 'sidecar events'} ${redactUrl(events)}`]: { state: 'down' as const, detail: 'stream unavailable; transactions are followed by polling' } };
    if (r.state === 'ok') return { state: 'degraded', detail: 'the sidecar event stream is unavailable; transactions are followed by polling', components };
    return { ...r, components };
  }
}
