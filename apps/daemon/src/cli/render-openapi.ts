import { randomBytes } from 'node:crypto';
import type { PluginState } from '@anchorflow/plugin-sdk';
// the document is rendered from an in-memory app (no database): the SDK's in-memory plugin state
import { MemoryPluginState } from '@anchorflow/plugin-sdk/testing';
import { generateApiKey } from '@anchorflow/security';
import { pino } from 'pino';
import { loadConfig, readConfigFiles } from '../config/load-config.js';
import { createApp } from '../create-app.js';
import { MemoryExecutions } from '../testing/memory-executions.js';
import { MemoryWorkflowRepository } from '../testing/memory-workflow-repository.js';
import { buildOpenApiDocument } from '../openapi-document.js';

/**
 * The daemon's OpenAPI document as `anchorflow openapi` prints it and apps/daemon/openapi.json holds it:
 * the real app (controllers, DTOs, route metadata) wired to in-memory ports, so neither a database nor
 * NATS is needed, and built from the default configuration so the output is the same on every machine.
 * Neither the engine nor an HTTP listener is started.
 */
export async function renderOpenApiDocument(): Promise<string> {
  const env = { ANCHORFLOW_LOG_LEVEL: 'silent' };
  const config = loadConfig(env, readConfigFiles(env));
  const executions = new MemoryExecutions();
  const states = new Map<string, PluginState>();
  const app = await createApp({
    config,
    logger: pino({ level: 'silent' }),
    database: { async close() {} },
    shutdownHooks: false,
    // throwaway secrets: no key is written, nothing is served
    security: { env: { ANCHORFLOW_ADMIN_KEY: generateApiKey().secret, ANCHORFLOW_JWT_SECRET: randomBytes(32).toString('base64url'), ANCHORFLOW_MASTER_KEY: randomBytes(32).toString('base64') } },
    ports: {
      store: executions,
      workflows: new MemoryWorkflowRepository(),
      reader: executions,
      pluginState: (plugin) => states.get(plugin) ?? (states.set(plugin, new MemoryPluginState()), states.get(plugin)!),
    },
  });
  try {
    return `${JSON.stringify(buildOpenApiDocument(app), null, 2)}\n`;
  } finally {
    await app.close();
  }
}
