import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { ConfigError, DEFAULT_CONFIG_PATH, envNameOf, loadConfig, readConfigFiles, redactConfig, redactUrl, unknownEnvVars } from './load-config.js';

const defaults = { name: 'config/default.yaml', text: readFileSync(DEFAULT_CONFIG_PATH, 'utf8') };

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('returns the documented defaults from config/default.yaml', () => {
    const config = loadConfig({}, [defaults]);
    expect(config.http).toEqual({ host: '127.0.0.1', port: 8080, bodyLimit: '1mb', maxWaitMs: 300000, maxJsonDepth: 100 });
    expect(config.dataDir).toBe('./data');
    expect(config.database.url).toBeUndefined();
    expect(config.hooks.responseTimeoutMs).toBe(30000);
    expect(config.log).toEqual({ level: 'info', pretty: false, requests: true });
    expect(config.engine.maxConcurrentNodes).toBeGreaterThan(0);
    expect(config.engine.maxNodes).toBeGreaterThan(0);
  });

  it('lets a config file override defaults key by key, and env variables override both', () => {
    const file = { name: '/etc/anchorflow.yaml', text: 'http:\n  port: 9000\n  host: 0.0.0.0\nlog:\n  level: debug\n' };
    const config = loadConfig({ ANCHORFLOW_HTTP_PORT: '9100', ANCHORFLOW_DATA_DIR: '/var/lib/af', ANCHORFLOW_LOG_PRETTY: 'true' }, [defaults, file]);
    expect(config.http.port).toBe(9100);
    expect(config.http.host).toBe('0.0.0.0');
    expect(config.http.bodyLimit).toBe('1mb');
    expect(config.log).toEqual({ level: 'debug', pretty: true, requests: true });
    expect(config.dataDir).toBe('/var/lib/af');
  });

  it('reads the conventional PORT, HOST, DATABASE_URL and NATS_URL; ANCHORFLOW_* wins over them', () => {
    const config = loadConfig({ PORT: '0', HOST: '::1', DATABASE_URL: 'postgres://u:p@db:5432/af', NATS_URL: 'nats://n:4222' }, [defaults]);
    expect(config.http.port).toBe(0);
    expect(config.http.host).toBe('::1');
    expect(config.database.url).toBe('postgres://u:p@db:5432/af');
    expect(config.nats.url).toBe('nats://n:4222');
    expect(loadConfig({ PORT: '1000', ANCHORFLOW_HTTP_PORT: '2000' }, [defaults]).http.port).toBe(2000);
  });

  it('maps camelCase keys to upper snake case env names', () => {
    expect(envNameOf('http.port')).toBe('ANCHORFLOW_HTTP_PORT');
    expect(envNameOf('dataDir')).toBe('ANCHORFLOW_DATA_DIR');
    expect(envNameOf('engine.maxConcurrentNodesPerExecution')).toBe('ANCHORFLOW_ENGINE_MAX_CONCURRENT_NODES_PER_EXECUTION');
    const config = loadConfig({ ANCHORFLOW_ENGINE_MAX_CONCURRENT_NODES_PER_EXECUTION: '4', ANCHORFLOW_HOOKS_RESPONSE_TIMEOUT_MS: '500' }, [defaults]);
    expect(config.engine.maxConcurrentNodesPerExecution).toBe(4);
    expect(config.hooks.responseTimeoutMs).toBe(500);
  });

  it('ignores empty env variables', () => {
    expect(loadConfig({ DATABASE_URL: '', PORT: '' }, [defaults]).http.port).toBe(8080);
  });

  it('throws once, listing every bad key with where it came from', () => {
    const file = { name: 'my.yaml', text: 'http:\n  prot: 1\nengine:\n  maxNodes: 0\nsurprise: true\n' };
    const problems = problemsOf(() =>
      loadConfig({ PORT: 'eighty', ANCHORFLOW_LOG_LEVEL: 'loud', ANCHORFLOW_LOG_PRETTY: 'maybe', DATABASE_URL: 'mysql://x:secret@h/db' }, [defaults, file]),
    );
    const text = problems.join('\n');
    expect(problems).toHaveLength(7);
    expect(text).toMatch(/http\.port = "eighty" \(from PORT\): .*integer/);
    expect(text).toMatch(/http\.prot .*unknown key/);
    expect(text).toMatch(/engine\.maxNodes = 0 \(from my\.yaml\): .*not be less than 1/);
    expect(text).toMatch(/^surprise .*unknown key/m);
    expect(text).toMatch(/log\.level = "loud" \(from ANCHORFLOW_LOG_LEVEL\)/);
    expect(text).toMatch(/log\.pretty = "maybe" \(from ANCHORFLOW_LOG_PRETTY\): .*boolean/);
    expect(text).toMatch(/database\.url = \(secret\) \(from DATABASE_URL\)/);
    expect(text).not.toContain('secret@');
  });

  it('reports broken YAML and a missing section', () => {
    const problems = problemsOf(() => loadConfig({}, [{ name: 'broken.yaml', text: 'http: [1, 2\n' }, { name: 'list.yaml', text: '- a\n' }]));
    expect(problems.some((p) => p.startsWith('broken.yaml: not valid YAML'))).toBe(true);
    expect(problems.some((p) => p.startsWith('list.yaml: must be a YAML mapping'))).toBe(true);
    expect(problems.some((p) => p.startsWith('http = not set'))).toBe(true);
  });

  it('treats null as "not set" so a file can unset an optional key', () => {
    const config = loadConfig({}, [defaults, { name: 'x.yaml', text: 'database:\n  url: postgres://a/b\n' }, { name: 'y.yaml', text: 'database:\n  url: null\n' }]);
    expect(config.database.url).toBeUndefined();
  });
});

describe('readConfigFiles', () => {
  it('reads the defaults and the file named by ANCHORFLOW_CONFIG', () => {
    expect(readConfigFiles({}).map((s) => s.name)).toEqual([DEFAULT_CONFIG_PATH]);
    const problems = problemsOf(() => readConfigFiles({ ANCHORFLOW_CONFIG: 'does-not-exist.yaml' }, { cwd: '/nonexistent' }));
    expect(problems).toEqual(['ANCHORFLOW_CONFIG: /nonexistent/does-not-exist.yaml cannot be read: ENOENT']);
  });
});

describe('secrets', () => {
  it('redacts the database password', () => {
    expect(redactUrl('postgres://af:s3cret@db.example:5432/af?sslmode=require')).toBe('postgres://af:***@db.example:5432/af?sslmode=require');
    expect(redactUrl('postgres://db/af?password=x')).toBe('postgres://db/af?password=***');
    expect(redactUrl('not a url')).toBe('***');
    const config = loadConfig({ DATABASE_URL: 'postgres://af:s3cret@db/af' }, [defaults]);
    expect(JSON.stringify(redactConfig(config))).not.toContain('s3cret');
  });

  it('names ANCHORFLOW_* variables that set nothing', () => {
    expect(unknownEnvVars({ ANCHORFLOW_HTTP_PROT: '1', ANCHORFLOW_HTTP_PORT: '1', ANCHORFLOW_CONFIG: 'x', PATH: '/bin' })).toEqual(['ANCHORFLOW_HTTP_PROT']);
  });

  it('reads the outbound allow-list (SSRF guard) from the file or ANCHORFLOW_OUTBOUND_ALLOW_HOSTS, naming a bad entry', () => {
    expect(loadConfig({}, [defaults]).outbound).toEqual({ allowHosts: [] });
    expect(loadConfig({ ANCHORFLOW_OUTBOUND_ALLOW_HOSTS: 'api.internal, 10.1.0.0/16,*.corp.example,fd00::1' }, [defaults]).outbound.allowHosts).toEqual(['api.internal', '10.1.0.0/16', '*.corp.example', 'fd00::1']);
    const problems = problemsOf(() => loadConfig({ ANCHORFLOW_OUTBOUND_ALLOW_HOSTS: '10.0.0.0/99' }, [defaults]));
    expect(problems.join('\n')).toMatch(/outbound\.allowHosts .*"10\.0\.0\.0\/99" is not a valid CIDR range/);
    expect(problemsOf(() => loadConfig({}, [defaults, { name: 'x.yaml', text: 'outbound:\n  allowHosts: ["http://x/"]\n' }])).join('\n')).toMatch(/"http:\/\/x\/" is neither a host name/);
  });
});
