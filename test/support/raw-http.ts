/**
 * HTTP with nothing normalised: the path goes out byte for byte (`..`, `%ZZ`, `%00` included) and the
 * body as given. Resolves with the response even if the server answers before reading the whole body
 * (e.g. 413 on an oversized upload) and the rest of the upload then fails.
 */
import http from 'node:http';
import { testAdminKey } from './e2e-env.js';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** parsed JSON, when the body is JSON */
  json: unknown;
}

/** Sends the run's admin key (`Authorization: Bearer …`) unless `headers` set Authorization or X-Api-Key, or `apiKey: null`. */
export function rawRequest(baseUrl: string, method: string, path: string, options: { body?: string | Buffer; headers?: Record<string, string>; timeoutMs?: number; apiKey?: string | null } = {}): Promise<RawResponse> {
  const apiKey = options.apiKey === undefined ? testAdminKey() : options.apiKey;
  const ownAuth = Object.keys(options.headers ?? {}).some((h) => /^(authorization|x-api-key)$/i.test(h));
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request({
      host: url.hostname, port: url.port, method, path,
      headers: {
        ...(options.body !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(options.body)) } : {}),
        ...(apiKey !== null && !ownAuth ? { authorization: `Bearer ${apiKey}` } : {}),
        ...options.headers,
      },
      timeout: options.timeoutMs ?? 30_000,
      agent: false,
    }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${options.timeoutMs ?? 30_000} ms`)));
    req.on('error', (err) => { if (!answered) reject(err); });
    if (options.body !== undefined) req.end(options.body); else req.end();
  });
}
