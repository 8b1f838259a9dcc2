import { randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { generateApiKey } from '@anchorflow/security';
import type { Engine } from '@anchorflow/engine';
import { type PluginDefinition, type PluginState } from '@anchorflow/plugin-sdk';
import { MemoryPluginState } from '@anchorflow/plugin-sdk/testing';
import { pino, type Logger } from 'pino';
import { loadConfig, readConfigFiles } from '../config/load-config.js';
import type { AnchorflowConfig } from '../config/config.schema.js';
import { createApp } from '../create-app.js';
import { EngineLifecycle } from '../engine/engine-lifecycle.service.js';
import { ENGINE } from '../engine/engine.tokens.js';
import { MemoryExecutions } from './memory-executions.js';
import { MemoryWorkflowRepository } from './memory-workflow-repository.js';

export interface MemoryApp {
  app: INestApplication;
  engine: Engine;
  workflows: MemoryWorkflowRepository;
  executions: MemoryExecutions;
  config: AnchorflowConfig;
  /** an admin API key (ANCHORFLOW_ADMIN_KEY of this app): send it as `Authorization: Bearer <adminKey>` */
  adminKey: string;
  database: { closed: boolean; close(): Promise<void> };
  close(): Promise<void>;
}

/**
 * The whole daemon in-process on in-memory ports (no PostgreSQL): real controllers, filter, pipes,
 * engine and plugins. `app.getHttpServer()` serves supertest; the engine is started as main.ts does.
 */
export async function createMemoryApp(options: { env?: Record<string, string>; plugins?: PluginDefinition[]; logger?: Logger } = {}): Promise<MemoryApp> {
  const env = { ANCHORFLOW_LOG_LEVEL: 'silent', ...options.env };
  const config = loadConfig(env, readConfigFiles(env));
  const logger = options.logger ?? pino({ level: config.log.level });
  const workflows = new MemoryWorkflowRepository();
  const executions = new MemoryExecutions();
  const states = new Map<string, PluginState>();
  const database = {
    closed: false,
    async close() {
      this.closed = true;
    },
  };
  // secrets in memory only: no key files are written, and every route needs this key
  const adminKey = generateApiKey().secret;
  const security = {
    env: { ANCHORFLOW_ADMIN_KEY: adminKey, ANCHORFLOW_JWT_SECRET: randomBytes(32).toString('base64url'), ANCHORFLOW_MASTER_KEY: randomBytes(32).toString('base64') },
  };
  const app = await createApp({
    security,
    config,
    logger,
    database,
    plugins: options.plugins,
    shutdownHooks: false,
    ports: {
      store: executions,
      workflows,
      reader: executions,
      pluginState: (plugin) => states.get(plugin) ?? (states.set(plugin, new MemoryPluginState()), states.get(plugin)!),
    },
  });
  await app.init();
  await app.get(EngineLifecycle).start();
  return { app, engine: app.get<Engine>(ENGINE), workflows, executions, config, adminKey, database, close: () => app.close() };
}
