import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ContractFactory, type Contract, JsonRpcProvider, NonceManager, Wallet } from 'ethers';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = join(here, '../../../..');
export const ANVIL_BIN = join(repoRoot, 'node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil');
/** anvil's first two default accounts (public test keys) */
export const KEYS = ['0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80', '0x59c6995e998f97a51a890d27ea408a9d4f0a43d8ef4b3a1c64c8b4b5c76e2e8b'];

export function artifact(name: 'TestToken' | 'X402Flow'): { abi: unknown[]; bytecode: string } {
  return JSON.parse(readFileSync(join(repoRoot, 'contracts/test', `${name}.json`), 'utf8')) as { abi: unknown[]; bytecode: string };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export interface Anvil {
  url: string;
  port: number;
  provider: JsonRpcProvider;
  signer: NonceManager;
  rpc<T = unknown>(method: string, params?: unknown[]): Promise<T>;
  head(): Promise<number>;
  mine(blocks: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startAnvil(extraArgs: string[] = []): Promise<Anvil> {
  const port = await freePort();
  const child: ChildProcess = spawn(ANVIL_BIN, ['--host', '127.0.0.1', '--port', String(port), '--silent', ...extraArgs], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  const rpc = async <T>(method: string, params: unknown[] = []): Promise<T> => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
    const body = (await res.json()) as { result?: T; error?: { message: string } };
    if (body.error) throw new Error(`${method}: ${body.error.message}`);
    return body.result as T;
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await rpc('eth_chainId');
      break;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`anvil did not start on ${url}: ${(err as Error).message}`, { cause: err });
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const provider = new JsonRpcProvider(url, undefined, { batchMaxCount: 1, cacheTimeout: -1, polling: true, pollingInterval: 50 });
  const signer = new NonceManager(new Wallet(KEYS[0]!, provider));
  return {
    url,
    port,
    provider,
    signer,
    rpc,
    head: async () => Number.parseInt(await rpc<string>('eth_blockNumber'), 16),
    mine: async (blocks) => void (await rpc('anvil_mine', [`0x${blocks.toString(16)}`])),
    stop: async () => {
      provider.destroy();
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

export async function deploy(anvil: Anvil, name: 'TestToken' | 'X402Flow', args: unknown[] = []): Promise<Contract> {
  const a = artifact(name);
  const factory = new ContractFactory(a.abi as never, a.bytecode, anvil.signer);
  const c = await factory.deploy(...args);
  await c.waitForDeployment();
  return c as Contract;
}

/** sends a contract call and waits for its receipt (anvil automines), returning the block number */
export async function send(tx: Promise<{ wait(): Promise<{ blockNumber: number } | null> }>): Promise<number> {
  const r = await (await tx).wait();
  if (!r) throw new Error('no receipt');
  return r.blockNumber;
}

export async function until<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface RpcProxy {
  url: string;
  /** how many more eth_getLogs calls pass; the rest wait until it is raised (Infinity: no limit) */
  allowLogs(n: number): void;
  /** answer every request with this (status, body) instead of forwarding, or undefined to forward */
  breakWith(answer: { status: number; body: string } | undefined): void;
  requests: string[];
  stop(): Promise<void>;
}

/** An HTTP JSON-RPC proxy in front of anvil that can hold eth_getLogs calls or answer garbage. */
export async function startRpcProxy(target: string): Promise<RpcProxy> {
  const { createServer: createHttpServer } = await import('node:http');
  let allowance = Number.POSITIVE_INFINITY;
  let broken: { status: number; body: string } | undefined;
  const waiting: Array<() => void> = [];
  const requests: string[] = [];
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const method = (JSON.parse(body) as { method?: string }).method ?? '?';
      requests.push(method);
      const forward = async (): Promise<void> => {
        if (broken) {
          res.writeHead(broken.status, { 'content-type': 'application/json' }).end(broken.body);
          return;
        }
        try {
          const r = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
          res.writeHead(r.status, { 'content-type': 'application/json' }).end(await r.text());
        } catch {
          res.destroy();
        }
      };
      if (method !== 'eth_getLogs' || allowance > 0) {
        if (method === 'eth_getLogs') allowance--;
        void forward();
      } else {
        waiting.push(() => {
          allowance--;
          void forward();
        });
      }
    });
    req.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    allowLogs(n) {
      allowance = n;
      while (allowance > 0 && waiting.length) waiting.shift()!();
    },
    breakWith(answer) {
      broken = answer;
    },
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
