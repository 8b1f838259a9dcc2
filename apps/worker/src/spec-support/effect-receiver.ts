import { type IncomingMessage, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EffectRequest {
  key: string;
  pid: number;
  at: number;
}

/**
 * A real HTTP receiver that applies a side effect once per Idempotency-Key (as an idempotent API
 * does) and counts every request. `plan` says how long the caller should hold after a request.
 */
export async function effectReceiver(plan: (key: string, nthForKey: number) => { holdMs: number } = () => ({ holdMs: 0 })) {
  const requests: EffectRequest[] = [];
  const effects = new Set<string>();
  const waiters: Array<{ n: number; resolve: (r: EffectRequest) => void }> = [];
  const server = createServer((req: IncomingMessage, res) => {
    req.resume();
    req.on('end', () => {
      const key = String(req.headers['idempotency-key'] ?? '');
      const r: EffectRequest = { key, pid: Number(req.headers['x-worker-pid']), at: Date.now() };
      requests.push(r);
      effects.add(key);
      const nth = requests.filter((x) => x.key === key).length;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(plan(key, nth)));
      for (const w of waiters.splice(0)) {
        if (requests.length >= w.n) w.resolve(requests[w.n - 1]);
        else waiters.push(w);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/effect`,
    requests,
    /** side effects applied: one per distinct key */
    get effects(): number {
      return effects.size;
    },
    /** resolves with the n-th request (1-based) once it has arrived */
    request(n: number): Promise<EffectRequest> {
      if (requests.length >= n) return Promise.resolve(requests[n - 1]);
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}
