// Correctness under concurrency, the peers' rule (../shared/bench-peers/verify.js): N requests at once with
// distinct ids; every response must be its own request's, with all fields (W1) / all 8 branches (W2).
import http from 'node:http';
import { BODY, checkResponse } from './workflows.js';

export function post(url, body, timeoutMs = 30_000) {
  return new Promise((resolve, reject) => {
    const data = typeof body === 'string' ? body : JSON.stringify(body);
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) }, timeout: timeoutMs }, (res) => {
      let s = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (s += c));
      res.on('end', () => resolve({ status: res.statusCode, text: s }));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(data);
  });
}

/** {url, kind, n, ok, bad, errors: first few problems} */
export async function verify(url, kind, n = 50) {
  const ids = Array.from({ length: n }, (_, i) => 1000 + i);
  const results = await Promise.all(ids.map((id) => post(url, { ...BODY, id }).catch((e) => ({ status: 0, text: String(e) }))));
  const errors = [];
  let ok = 0;
  results.forEach((r, i) => {
    let json;
    try {
      json = JSON.parse(r.text);
    } catch {
      json = undefined;
    }
    const problem = checkResponse(kind, r.status, json, ids[i]);
    if (problem) errors.push(`${problem}: ${String(r.text).slice(0, 200)}`);
    else ok++;
  });
  // 200s (checked or not) count as executions the daemon must have recorded
  const status200 = results.filter((r) => r.status === 200).length;
  return { url, kind, n, ok, bad: n - ok, status200, errors: errors.slice(0, 3) };
}
