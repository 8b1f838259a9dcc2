import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import type { Logger } from 'pino';
import { ConfigError, type Env, loadConfig, readConfigFiles, redactConfig, unknownEnvVars } from './config/load-config.js';
import type { AnchorflowConfig } from './config/config.schema.js';
import { createApp } from './create-app.js';
import { openDatabaseFromConfig } from './core/database/persistence.providers.js';
import { EngineLifecycle } from './engine/engine-lifecycle.service.js';
import type { OwnListeners } from './engine/engine.factory.js';
import { OWN_LISTENERS } from './engine/engine.tokens.js';
import { createRootLogger, printListening } from './logging/logger.js';
import { SECRET_ENV } from './security/key-material.js';
import { redactingLogOptions } from './security/log-redaction.js';
import { SecretRegistry } from './core/secret-registry.js';

/** `http://127.0.0.1:8080`, `http://[::1]:8080` */
export function listeningUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export interface RunningDaemon {
  app: INestApplication;
  config: AnchorflowConfig;
  logger: Logger;
  url: string;
}

/**
 * Loads the configuration, opens the database (embedded unless DATABASE_URL), builds the app, listens,
 * prints the `listening` line, then resumes unfinished executions and starts the wake-up poller.
 */
export async function runDaemon(env: Env = process.env): Promise<RunningDaemon> {
  let config: AnchorflowConfig;
  try {
    config = loadConfig(env, readConfigFiles(env));
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`anchorflow: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  // one registry of secret values for the whole process: the logger redacts with it from its first line
  const secrets = new SecretRegistry();
  for (const name of Object.values(SECRET_ENV)) secrets.addDaemonSecret(env[name]);
  const logger = createRootLogger(config.log, undefined, redactingLogOptions(secrets));
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection'));
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception; exiting (unfinished executions resume on restart)');
    process.exit(1);
  });
  logger.info({ event: 'config', config: redactConfig(config) }, 'configuration loaded');
  for (const name of unknownEnvVars(env)) logger.warn({ variable: name }, `${name} is not a known setting and is ignored`);

  const t0 = Date.now();
  const database = await openDatabaseFromConfig(config, logger);
  logger.info({ event: 'database.ready', embedded: database.embedded, ms: Date.now() - t0 }, database.embedded ? 'embedded database ready' : 'database ready');

  let app: INestApplication;
  try {
    app = await createApp({ config, database, logger, security: { env, secrets } });
    await app.listen(config.http.port, config.http.host);
  } catch (err) {
    await database.close().catch(() => undefined);
    throw err;
  }
  const { port } = app.getHttpServer().address() as AddressInfo;
  // ctx.fetch refuses the daemon's own port on local addresses (SSRF guard)
  app.get<OwnListeners>(OWN_LISTENERS).ports.push(port);
  const url = listeningUrl(config.http.host, port);
  printListening(url, { docs: `${url}/api/docs` });
  await app.get(EngineLifecycle).start();
  return { app, config, logger, url };
}
