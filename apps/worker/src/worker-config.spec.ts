import { describe, expect, it } from '@jest/globals';
import { workerConfigFromEnv } from './worker-config.js';

describe('workerConfigFromEnv', () => {
  it('defaults to the core plugin and sensible limits', () => {
    expect(workerConfigFromEnv({ NATS_URL: 'nats://127.0.0.1:4222' }, '/srv')).toEqual({
      natsUrl: 'nats://127.0.0.1:4222', plugins: ['@anchorflow/plugin-core'], pluginsBaseDir: '/srv', concurrency: 4, natsPrefix: 'anchorflow',
      ackWaitMs: 30_000, maxDeliver: 5, heartbeatMs: 5000, shutdownTimeoutMs: 20_000, rpcTimeoutMs: 10_000, reconnectWaitMs: 1000, logLevel: 'info',
    });
  });

  it('reads plugins and numbers from the environment', () => {
    const c = workerConfigFromEnv({ NATS_URL: 'n:4222', ANCHORFLOW_WORKER_PLUGINS: ' @acme/a , ./plugins/b ,', ANCHORFLOW_WORKER_CONCURRENCY: '16', ANCHORFLOW_WORKER_ID: 'w-1' });
    expect(c).toMatchObject({ plugins: ['@acme/a', './plugins/b'], concurrency: 16, workerId: 'w-1' });
  });

  it('lists every bad variable at once', () => {
    let message = '';
    try {
      workerConfigFromEnv({ ANCHORFLOW_WORKER_CONCURRENCY: '0', ANCHORFLOW_WORKER_ID: 'a.b', ANCHORFLOW_LOG_LEVEL: 'loud' });
    } catch (err) {
      message = (err as Error).message;
    }
    for (const part of ['NATS_URL is required', 'ANCHORFLOW_WORKER_CONCURRENCY must be an integer between 1 and 10000 (got "0")', 'ANCHORFLOW_WORKER_ID may only hold', 'ANCHORFLOW_LOG_LEVEL must be']) {
      expect(message).toContain(part);
    }
  });
});
