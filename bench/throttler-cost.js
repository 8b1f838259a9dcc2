// Cost of one webhook request in @nestjs/throttler's memory storage (the daemon's rate limiter) as a
// function of the hits already in the window: it keeps one timestamp per hit and filters them on every
// request. Same call as the daemon's guard (blockDuration = ttl).   node bench/throttler-cost.js
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { ThrottlerStorageService } = require('@nestjs/throttler/dist/throttler.service.js');

for (const n of [1_000, 10_000, 30_000, 60_000]) {
  const storage = new ThrottlerStorageService();
  const key = 'hooks:127.0.0.1';
  await storage.increment(key, 60_000, 1_000_000, 60_000, 'default');
  // fill the window directly (calling increment n times would itself be O(n²))
  const hits = storage.hitExpirations.get(key).get('default');
  const now = Date.now();
  for (let i = 0; i < n; i++) hits.push(now + 30_000 + i);
  storage.storage.get(key).totalHits.set('default', hits.length);
  const k = 300;
  const t0 = performance.now();
  for (let i = 0; i < k; i++) await storage.increment(key, 60_000, 1_000_000, 60_000, 'default');
  console.log(`${n} hits in the window: ${(((performance.now() - t0) * 1000) / k).toFixed(0)} µs per request`);
  storage.onApplicationShutdown();
}
