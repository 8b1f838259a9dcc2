import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig, readConfigFiles, redactConfig, redactNatsUrl } from './load-config.js';

const load = (env: Record<string, string>, yaml?: string) => loadConfig(env, [...readConfigFiles({}), ...(yaml ? [{ name: 'extra.yaml', text: yaml }] : [])]);

describe('plugin and cluster configuration', () => {
  it('has defaults: no plugins, no NATS, the anchorflow prefix, worker and lease timings', () => {
    const c = load({});
    expect({ plugins: c.plugins, daemonId: c.daemonId, nats: c.nats, workers: c.workers, cluster: c.cluster }).toEqual({
      plugins: [], daemonId: undefined, nats: { prefix: 'anchorflow' },
      workers: { waitForWorkerMs: 600_000, recheckMs: 60_000, discoveryWindowMs: 1000, resultSweepMs: 15_000 },
      cluster: { leaseMs: 15_000 },
    });
  });

  it('reads the keys from YAML and from the environment (plugins comma-separated)', () => {
    const c = load(
      { NATS_URL: 'nats://a:4222,nats://b:4222', ANCHORFLOW_PLUGINS: ' @acme/one , ./two ,', ANCHORFLOW_DAEMON_ID: 'd-1', ANCHORFLOW_WORKERS_WAIT_FOR_WORKER_MS: '5000', ANCHORFLOW_CLUSTER_LEASE_MS: '3000' },
      'nats:\n  prefix: tenant.a\nworkers:\n  recheckMs: 2000\n',
    );
    expect({ plugins: c.plugins, daemonId: c.daemonId, nats: c.nats, wait: c.workers.waitForWorkerMs, recheck: c.workers.recheckMs, lease: c.cluster.leaseMs }).toEqual({
      plugins: ['@acme/one', './two'], daemonId: 'd-1', nats: { url: 'nats://a:4222,nats://b:4222', prefix: 'tenant.a' }, wait: 5000, recheck: 2000, lease: 3000,
    });
    expect(load({}, 'plugins:\n  - ./p\n').plugins).toEqual(['./p']);
  });

  it('reports bad values of every new key at once', () => {
    let err: ConfigError | undefined;
    try {
      load({ ANCHORFLOW_DAEMON_ID: 'has space', ANCHORFLOW_NATS_PREFIX: 'a..b', ANCHORFLOW_CLUSTER_LEASE_MS: '10' }, 'plugins: nope\nworkers:\n  recheckMs: -1\n');
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err?.problems.map((p) => p.split(' ')[0]).sort()).toEqual(['cluster.leaseMs', 'daemonId', 'nats.prefix', 'plugins', 'workers.recheckMs']);
  });

  it('never logs NATS credentials, a token in the user name included', () => {
    expect(redactNatsUrl('nats://user:secret@h:4222,nats://tok3n@g:4222')).toBe('nats://user:***@h:4222,nats://***@g:4222');
    expect(redactNatsUrl('nats://h:4222')).toBe('nats://h:4222');
    expect(JSON.stringify(redactConfig(load({ NATS_URL: 'nats://s3cret@h:4222' })))).not.toContain('s3cret');
  });
});
