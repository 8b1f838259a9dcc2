/**
 * The JSON-RPC transport under casper-js-sdk's RpcClient: the SDK's own HttpHandler has no timeout and
 * drops the node's error `data`, so each adapter (sidecar, node) gets this handler instead — one POST with a
 * deadline, answers checked to be JSON-RPC 2.0 before the SDK parses them. What went wrong is kept as a
 * typed failure so the client can decide between "try the other adapter" and "this is the answer".
 */
import type { IHandler, RpcRequest, RpcResponse } from 'casper-js-sdk';
import { NodeError, TransientNodeError } from '@anchorflow/plugin-sdk';

export type AdapterName = 'sidecar' | 'node';

/** the transport could not get a JSON-RPC answer: retrying, or asking the other adapter, can help */
export class CasperTransportError extends Error {
  constructor(readonly kind: 'timeout' | 'unreachable' | 'http' | 'garbage', message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CasperTransportError';
  }
}

/** a JSON-RPC error answer, shaped like the SDK's HttpError (`sourceErr` = the response's error object) */
export class CasperRpcError extends Error {
  constructor(readonly sourceErr: { code: number; message: string; data?: unknown }) {
    super(`JSON-RPC error ${sourceErr.code}: ${sourceErr.message}`);
    this.name = 'CasperRpcError';
  }
}

export class TimedRpcHandler implements IHandler {
  private nextId = 1;

  constructor(readonly endpoint: string, readonly timeoutMs: number) {}

  /** one call whose result is read as plain JSON (where the SDK's typed parsing is stricter than the schema) */
  async request(method: string, params?: unknown): Promise<any> {
    const res = await this.processCall({ method, params } as unknown as RpcRequest);
    if (res.error) throw new CasperRpcError(res.error as unknown as CasperRpcError['sourceErr']);
    return res.result;
  }

  async processCall(req: RpcRequest): Promise<RpcResponse> {
    const id = String(this.nextId++);
    const body = JSON.stringify({ jsonrpc: '2.0', id, method: req.method, ...(req.params === undefined ? {} : { params: req.params }) });
    let text: string;
    let status: number;
    try {
      const res = await fetch(this.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = res.status;
      text = await res.text();
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      if (e.name === 'TimeoutError' || e.name === 'AbortError') {
        throw new CasperTransportError('timeout', `no answer to ${req.method} within ${this.timeoutMs} ms`, { cause: err });
      }
      throw new CasperTransportError('unreachable', `cannot reach it (${e.cause?.code ?? e.cause?.message ?? e.message})`, { cause: err });
    }
    if (status < 200 || status >= 300) {
      throw new CasperTransportError('http', `HTTP ${status} to ${req.method}: ${snippet(text)}`);
    }
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      throw new CasperTransportError('garbage', `answered ${req.method} with something that is not JSON: ${snippet(text)}`);
    }
    const isObject = json !== null && typeof json === 'object';
    const hasError = isObject && json.error && typeof json.error === 'object' && typeof json.error.code === 'number';
    if (!isObject || json.jsonrpc !== '2.0' || (!hasError && (json.result === undefined || json.result === null || typeof json.result !== 'object'))) {
      throw new CasperTransportError('garbage', `answered ${req.method} with JSON that is not a JSON-RPC 2.0 result: ${snippet(text)}`);
    }
    return { version: json.jsonrpc, id: json.id, result: json.result, error: hasError ? json.error : undefined } as unknown as RpcResponse;
  }
}

function snippet(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return JSON.stringify(t.length > 160 ? `${t.slice(0, 160)}…` : t);
}

/** the node's JSON-RPC error codes this client reacts to (casper-sidecar `rpcs/error_code.rs`) */
export const CasperRpcCode = {
  NoSuchDeploy: -32000,
  NoSuchBlock: -32001,
  InvalidDeploy: -32008,
  NoSuchTransaction: -32014,
  InvalidTransaction: -32016,
  NodeRequestFailed: -32018,
  InternalError: -32603,
} as const;

export interface Classified {
  error: NodeError;
  /** whether asking the other adapter may give a better answer */
  fallback: boolean;
}

/** turns whatever the SDK or the transport threw into a NodeError naming the adapter, the call and the cause */
export function classify(err: unknown, adapter: AdapterName, endpoint: string, method: string): Classified {
  const where = `Casper ${adapter} (${endpoint})`;
  if (err instanceof CasperTransportError) {
    const code = { timeout: 'CASPER_TIMEOUT', unreachable: 'CASPER_UNREACHABLE', http: 'CASPER_HTTP_ERROR', garbage: 'CASPER_BAD_ANSWER' }[err.kind];
    return { error: new TransientNodeError(`${where}: ${err.message}`, code, { adapter, method }, { cause: err }), fallback: true };
  }
  const rpc = rpcErrorOf(err);
  if (rpc) {
    const data = rpc.data === undefined || rpc.data === null ? '' : `: ${typeof rpc.data === 'string' ? rpc.data : JSON.stringify(rpc.data)}`;
    const message = `${where} answered ${method} with JSON-RPC error ${rpc.code} "${rpc.message}"${data}`;
    const details = { adapter, method, rpcCode: rpc.code, rpcMessage: rpc.message, rpcData: rpc.data };
    switch (rpc.code) {
      case CasperRpcCode.InvalidTransaction:
      case CasperRpcCode.InvalidDeploy:
        // the node checked the transaction itself: sending it again, anywhere, gets the same answer
        return { error: new NodeError(message, 'CASPER_TX_REJECTED', details, { cause: err }), fallback: false };
      case CasperRpcCode.NoSuchTransaction:
      case CasperRpcCode.NoSuchDeploy:
        // a sidecar may sit in front of a node that has not seen it yet: ask the other one
        return { error: new TransientNodeError(message, 'CASPER_TX_NOT_FOUND', details, { cause: err }), fallback: true };
      case CasperRpcCode.NoSuchBlock:
        return { error: new NodeError(message, 'CASPER_BLOCK_NOT_FOUND', details, { cause: err }), fallback: true };
      case CasperRpcCode.NodeRequestFailed:
      case CasperRpcCode.InternalError:
        return { error: new TransientNodeError(message, 'CASPER_NODE_FAILED', details, { cause: err }), fallback: true };
      default:
        return { error: new NodeError(message, 'CASPER_RPC_ERROR', details, { cause: err }), fallback: false };
    }
  }
  // the answer was JSON-RPC but not the expected result (the SDK's parser or ours refused it)
  const msg = err instanceof Error ? err.message : String(err);
  return { error: new TransientNodeError(`${where} answered ${method} with a result that cannot be read: ${msg}`, 'CASPER_BAD_ANSWER', { adapter, method }, { cause: err }), fallback: true };
}

function rpcErrorOf(err: unknown): { code: number; message: string; data?: unknown } | undefined {
  // RpcClient throws HttpError(code, <the response's error object>) for a JSON-RPC error
  const src = (err as { sourceErr?: unknown })?.sourceErr as { code?: unknown; message?: unknown; data?: unknown } | undefined;
  if (src && typeof src.code === 'number') return { code: src.code, message: String(src.message ?? ''), data: src.data };
  return undefined;
}
