import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { Agent, buildConnector, fetch as undiciFetch } from 'undici';
import { NodeError, TransientNodeError } from './errors.js';

/**
 * Outbound HTTP for plugins (SSRF guard). Every connection — the first request and every redirect hop —
 * is checked against the address it actually connects to (after DNS resolution), so a public name that
 * resolves to 127.0.0.1, or a redirect to http://169.254.169.254/, is refused the same way as a literal
 * private URL. See docs/security.md.
 */
export interface OutboundPolicy {
  /**
   * Destinations an admin allows although they are in a denied range: host names (exact, case-insensitive,
   * or `*.example.com` for sub-domains), IP addresses and CIDR ranges (`10.1.0.0/16`, `fd00::/8`).
   * Config `outbound.allowHosts`, env ANCHORFLOW_OUTBOUND_ALLOW_HOSTS (comma-separated).
   */
  allowHosts?: readonly string[];
  /**
   * Ports of the daemon's own listeners: refused on every local address (loopback, unspecified, this
   * machine's interfaces) even when the allow-list admits the address. A function is read on every
   * connection (a daemon learns its port after listen()).
   */
  ownPorts?: readonly number[] | (() => readonly number[]);
  /** TCP/TLS connect timeout (default 10 s) */
  connectTimeoutMs?: number;
}

/** The fetch plugins get as `ctx.fetch` (and services as `ctx.fetch`): WHATWG fetch, guarded. */
export type OutboundFetch = (url: string | URL, init?: RequestInit) => Promise<Response>;

/** The destination is in a denied range (or is the daemon itself). Not retryable. */
export class OutboundBlockedError extends NodeError {
  constructor(host: string, reason: string) {
    super(`outbound request to "${host}" blocked: ${reason}; an admin can allow it with outbound.allowHosts (ANCHORFLOW_OUTBOUND_ALLOW_HOSTS)`, 'OUTBOUND_BLOCKED', { host });
    this.name = 'OutboundBlockedError';
  }
}

/**
 * The request could not be completed (DNS, refused, reset, TLS...). Deliberately one message for every
 * cause, without the socket error code: a workflow author must not be able to tell open from closed ports.
 */
export class OutboundRequestError extends TransientNodeError {
  constructor(origin: string) {
    super(`request to ${origin} failed: no response`, 'OUTBOUND_FAILED', { origin });
    this.name = 'OutboundRequestError';
  }
}

/** Ranges refused unless allow-listed: loopback, private (RFC 1918), link-local, ULA, CGNAT, multicast, reserved. */
const DENIED_V4: Array<[string, number, string]> = [
  ['0.0.0.0', 8, 'an unspecified ("this network") address'],
  ['10.0.0.0', 8, 'a private address (RFC 1918)'],
  ['100.64.0.0', 10, 'a shared (carrier-grade NAT) address'],
  ['127.0.0.0', 8, 'a loopback address'],
  ['169.254.0.0', 16, 'a link-local address'],
  ['172.16.0.0', 12, 'a private address (RFC 1918)'],
  ['192.0.0.0', 24, 'an IETF protocol address'],
  ['192.168.0.0', 16, 'a private address (RFC 1918)'],
  ['198.18.0.0', 15, 'a benchmarking address'],
  ['224.0.0.0', 4, 'a multicast address'],
  ['240.0.0.0', 4, 'a reserved address'],
];
const DENIED_V6: Array<[string, number, string]> = [
  ['::', 128, 'an unspecified address'],
  ['::1', 128, 'a loopback address'],
  ['64:ff9b::', 96, 'a NAT64 address'],
  ['fc00::', 7, 'a unique local address (ULA)'],
  ['fe80::', 10, 'a link-local address'],
  ['fec0::', 10, 'a site-local address'],
  ['ff00::', 8, 'a multicast address'],
];

const denied: Array<{ list: BlockList; reason: string }> = [...DENIED_V4.map(([a, p, r]) => ({ a, p, r, f: 'ipv4' as const })), ...DENIED_V6.map(([a, p, r]) => ({ a, p, r, f: 'ipv6' as const }))].map(({ a, p, r, f }) => {
  const list = new BlockList();
  list.addSubnet(a, p, f);
  return { list, reason: r };
});

/** `::ffff:127.0.0.1` / `::ffff:7f00:1` → `127.0.0.1`; other addresses unchanged (brackets removed). */
export function normalizeAddress(address: string): string {
  const a = address.replace(/^\[|\]$/g, '').toLowerCase();
  const dotted = /^(?:0{0,4}:){0,5}:?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a) ?? /^::(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (dotted) return dotted[1]!;
  const hex = /^(?:0{0,4}:){0,5}:?ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(a);
  if (hex) {
    const hi = parseInt(hex[1]!, 16);
    const lo = parseInt(hex[2]!, 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return a;
}

/** Why this address is refused by default, or undefined when it is public. */
export function deniedRangeOf(address: string): string | undefined {
  const a = normalizeAddress(address);
  const family = isIP(a);
  if (family === 0) return 'not an IP address';
  const f = family === 4 ? 'ipv4' : 'ipv6';
  return denied.find((d) => d.list.check(a, f))?.reason;
}

interface ParsedAllowList {
  names: string[];
  suffixes: string[];
  addresses: BlockList;
}

/** Parses allow-list entries; throws a TypeError naming the first bad entry. */
export function parseAllowHosts(entries: readonly string[]): ParsedAllowList {
  const out: ParsedAllowList = { names: [], suffixes: [], addresses: new BlockList() };
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase().replace(/^\[|\]$/g, '');
    if (entry === '') continue;
    const cidr = /^(.+)\/(\d{1,3})$/.exec(entry);
    if (cidr) {
      const address = normalizeAddress(cidr[1]!);
      const family = isIP(address);
      const prefix = Number(cidr[2]);
      if (family === 0 || prefix > (family === 4 ? 32 : 128)) throw new TypeError(`outbound.allowHosts: "${raw}" is not a valid CIDR range (like 10.0.0.0/8 or fd00::/8)`);
      out.addresses.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
    } else if (isIP(normalizeAddress(entry))) {
      const address = normalizeAddress(entry);
      out.addresses.addAddress(address, isIP(address) === 4 ? 'ipv4' : 'ipv6');
    } else if (/^\*\.[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(entry)) {
      out.suffixes.push(entry.slice(1));
    } else if (/^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/.test(entry)) {
      out.names.push(entry);
    } else {
      throw new TypeError(`outbound.allowHosts: "${raw}" is neither a host name, an IP address nor a CIDR range`);
    }
  }
  return out;
}

/** The allow-list from ANCHORFLOW_OUTBOUND_ALLOW_HOSTS (comma-separated), for hosts without a config file (workers). */
export function outboundPolicyFromEnv(env: Record<string, string | undefined> = process.env): OutboundPolicy {
  const raw = env.ANCHORFLOW_OUTBOUND_ALLOW_HOSTS ?? '';
  return { allowHosts: raw.split(',').map((s) => s.trim()).filter((s) => s !== '') };
}

function localAddresses(): Set<string> {
  const out = new Set<string>(['0.0.0.0', '::']);
  for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) out.add(normalizeAddress(i.address));
  return out;
}

function isLocal(address: string, locals: Set<string>): boolean {
  const a = normalizeAddress(address);
  return locals.has(a) || deniedRangeOf(a) === 'a loopback address' || a === '0.0.0.0' || a === '::';
}

function isBlocked(err: unknown): OutboundBlockedError | undefined {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof OutboundBlockedError) return e;
  }
  return undefined;
}

/**
 * A fetch whose every connection is checked by resolved address (see OutboundPolicy). Blocked
 * destinations reject with OutboundBlockedError, network failures with OutboundRequestError (no cause
 * text), aborts with the signal's reason. Only http: and https: URLs.
 */
export function createGuardedFetch(policy: OutboundPolicy = {}): OutboundFetch {
  const allow = parseAllowHosts(policy.allowHosts ?? []);
  const ownPortsOf = () => new Set(typeof policy.ownPorts === 'function' ? policy.ownPorts() : (policy.ownPorts ?? []));
  const base = buildConnector({ timeout: policy.connectTimeoutMs ?? 10_000 });
  const hostAllowed = (host: string) => allow.names.includes(host) || allow.suffixes.some((s) => host.endsWith(s));

  /** The address to connect to, or an OutboundBlockedError. */
  async function check(hostname: string, port: number): Promise<string> {
    const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
    const literal = isIP(host) ? [host] : undefined;
    let addresses: string[];
    if (literal) addresses = literal;
    else {
      try {
        addresses = (await lookup(host, { all: true, verbatim: true })).map((r) => r.address);
      } catch {
        throw Object.assign(new Error('lookup failed'), { code: 'OUTBOUND_LOOKUP' });
      }
    }
    const ownPorts = ownPortsOf();
    const locals = ownPorts.size ? localAddresses() : new Set<string>();
    // every address of the name must pass: a name with one public and one private record is refused
    for (const address of addresses) {
      const a = normalizeAddress(address);
      if (ownPorts.has(port) && isLocal(a, locals)) throw new OutboundBlockedError(host, "it is one of the daemon's own listeners");
      const reason = deniedRangeOf(a);
      if (reason && !hostAllowed(host) && !allow.addresses.check(a, isIP(a) === 4 ? 'ipv4' : 'ipv6')) {
        throw new OutboundBlockedError(host, `it ${literal ? 'is' : 'resolves to'} ${reason}`);
      }
    }
    return normalizeAddress(addresses[0]!);
  }

  const agent = new Agent({
    connect: (opts, callback) => {
      const port = Number(opts.port) || (opts.protocol === 'https:' ? 443 : 80);
      check(opts.hostname, port).then(
        (address) => {
          // connect to the checked address (no second resolution to race with); TLS keeps the name for SNI and the certificate check
          const servername = isIP(opts.hostname.replace(/^\[|\]$/g, '')) ? opts.servername : opts.servername || opts.hostname;
          base({ ...opts, hostname: address, ...(servername ? { servername } : {}) }, callback);
        },
        (err: Error) => callback(err, null),
      );
    },
  });

  return async (url, init = {}) => {
    const target = new URL(url);
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      throw new NodeError(`outbound request to ${target.protocol} URLs is not supported (http: or https: only)`, 'OUTBOUND_PROTOCOL', { protocol: target.protocol });
    }
    try {
      const res = await undiciFetch(target, { ...(init as object), dispatcher: agent } as Parameters<typeof undiciFetch>[1]);
      return res as unknown as Response;
    } catch (err) {
      const blocked = isBlocked(err);
      if (blocked) throw blocked;
      if (init.signal?.aborted) throw init.signal.reason ?? err;
      throw new OutboundRequestError(target.origin);
    }
  };
}

let defaultFetch: OutboundFetch | undefined;

/** The guarded fetch with the default policy (no allow-list): what ctx.fetch is when the host gives none. */
export function defaultGuardedFetch(): OutboundFetch {
  return (defaultFetch ??= createGuardedFetch());
}

/**
 * Where a credential's host scope rides along with its data (issue 17): a non-enumerable symbol
 * property, so it is never serialized, logged or shown to the node as a field.
 */
export const CREDENTIAL_ALLOW_HOSTS: unique symbol = Symbol.for('anchorflow.credential.allowHosts');

interface HostScope {
  /** the credential's name, for the error */
  credential: string;
  entries: readonly string[];
  list: ParsedAllowList;
}

/** Marks decrypted credential data with the hosts its scope allows (the vault does, when resolving). */
export function withCredentialAllowHosts<T extends object>(data: T, credential: string, hosts: readonly string[]): T {
  Object.defineProperty(data, CREDENTIAL_ALLOW_HOSTS, { value: { credential, entries: [...hosts] }, enumerable: false });
  return data;
}

/** The host scope a credential's data carries, if any. */
export function credentialAllowHostsOf(data: unknown): { credential: string; entries: readonly string[] } | undefined {
  if (data === null || typeof data !== 'object') return undefined;
  return (data as Record<symbol, { credential: string; entries: readonly string[] } | undefined>)[CREDENTIAL_ALLOW_HOSTS];
}

function hostInScope(hostname: string, list: ParsedAllowList): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (list.names.includes(host) || list.suffixes.some((s) => host.endsWith(s))) return true;
  const address = normalizeAddress(host);
  const family = isIP(address);
  return family !== 0 && list.addresses.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * ctx.fetch for a node attempt that may resolve host-scoped credentials: once it has, every request
 * (and every redirect hop, followed here so each can be checked) must go to a host that every such
 * credential's scope allows, else CREDENTIAL_HOST_NOT_ALLOWED (not retryable). Host names match by
 * name (`api.example.com`, `*.example.com`); address and CIDR entries match literal IP URLs. The
 * outbound policy of `base` still applies on top.
 */
export function credentialScopedFetch(base: OutboundFetch): { fetch: OutboundFetch; track<T>(data: T): T } {
  const scopes: HostScope[] = [];
  const check = (url: URL): void => {
    for (const scope of scopes) {
      if (!hostInScope(url.hostname, scope.list)) {
        throw new NodeError(`outbound request to "${url.hostname}" refused: credential ${JSON.stringify(scope.credential)} may only be used with ${scope.entries.join(', ')}`, 'CREDENTIAL_HOST_NOT_ALLOWED', { host: url.hostname, credential: scope.credential });
      }
    }
  };
  const fetch: OutboundFetch = async (url, init = {}) => {
    if (scopes.length === 0) return base(url, init);
    let target = new URL(url);
    let request: RequestInit = { ...init };
    const follow = (init.redirect ?? 'follow') === 'follow';
    for (let hop = 0; ; hop++) {
      check(target);
      const res = await base(target, follow ? { ...request, redirect: 'manual' } : request);
      const location = res.headers.get('location');
      if (!follow || !REDIRECTS.has(res.status) || !location) return res;
      if (hop >= 10) throw new NodeError(`more than 10 redirects from ${new URL(url).origin}`, 'OUTBOUND_REDIRECTS');
      await res.body?.cancel().catch(() => undefined);
      const next = new URL(location, target);
      // as fetch does: 303 (and 301/302 after a POST) become a GET without a body; credentials stay on their origin
      if (res.status === 303 || ((res.status === 301 || res.status === 302) && (request.method ?? 'GET').toUpperCase() === 'POST')) {
        const { body: _body, ...rest } = request;
        request = { ...rest, method: 'GET' };
      }
      if (next.origin !== target.origin && request.headers) {
        const headers = new Headers(request.headers);
        for (const h of ['authorization', 'cookie', 'proxy-authorization']) headers.delete(h);
        request = { ...request, headers };
      }
      target = next;
    }
  };
  return {
    fetch,
    track<T>(data: T): T {
      const scope = credentialAllowHostsOf(data);
      if (scope) scopes.push({ credential: scope.credential, entries: scope.entries, list: parseAllowHosts(scope.entries) });
      return data;
    },
  };
}
