import { type DynamicModule, Global, Module } from '@nestjs/common';
import { APP_GUARD, DiscoveryModule, Reflector } from '@nestjs/core';
import type { NodeTransport } from '@anchorflow/engine';
import type { CredentialsAccessor } from '@anchorflow/plugin-sdk';
import { TokenService, Vault } from '@anchorflow/security';
import type { Logger } from 'pino';
import { ApiKeys } from '../auth/api-keys.js';
import { MemoryApiKeyStore, PgApiKeyStore, type ApiKeyStore } from '../auth/api-key.store.js';
import { AuthController } from '../auth/auth.controller.js';
import { AuthEvents } from '../auth/auth-events.js';
import { AuthGuard } from '../auth/auth.guard.js';
import { Authenticator } from '../auth/authenticator.js';
import { KeysController } from '../auth/keys.controller.js';
import type { AnchorflowConfig } from '../config/config.schema.js';
import { APP_CONFIG } from '../config/config.token.js';
import { MemoryCredentialStore, PgCredentialStore, type CredentialStore } from '../credentials/credential.store.js';
import { Credentials } from '../credentials/credentials.js';
import { CredentialsController } from '../credentials/credentials.controller.js';
import { redactingTransport } from '../credentials/redacting-transport.js';
import { DATABASE } from '../core/database/database.tokens.js';
import { DAEMON_PLUGINS } from '../plugins/plugins.tokens.js';
import type { DaemonPlugins } from '../plugins/daemon-plugins.js';
import { ROOT_LOGGER } from '../logging/logging.tokens.js';
import { keyMaterialSecrets, loadKeyMaterial, SECRET_ENV, type KeyMaterial } from './key-material.js';
import { createRateLimitGuard } from '../common/rate-limit.js';
import { RouteAccessCheck } from './route-access.check.js';
import { SecretRegistry } from '../core/secret-registry.js';
import { SecurityStartup } from './security-startup.service.js';
import type { SecurityOptions } from './security.options.js';
import { API_KEY_STORE, AUTHENTICATOR, CREDENTIAL_STORE, ENGINE_SECURITY, KEY_MATERIAL, SECRET_REGISTRY, SECURITY_OPTIONS } from './security.tokens.js';

/** What EngineModule takes from here (ENGINE_SECURITY). */
export interface EngineSecurity {
  /** EngineDeps.credentials: decrypted credential data by name or id */
  credentials: CredentialsAccessor;
  /** wraps the node transport so that credential values are redacted from node outputs and errors */
  wrapTransport(transport: NodeTransport): NodeTransport;
}

/** The open database of the daemon, or the stand-in of the in-memory specs (no `pool`). */
function sqlDatabase(db: unknown): { pool: unknown } | undefined {
  const pool = (db as { pool?: { query?: unknown } } | undefined)?.pool;
  return typeof pool?.query === 'function' ? (db as { pool: unknown }) : undefined;
}

async function keyMaterial(options: SecurityOptions, config: AnchorflowConfig, secrets: SecretRegistry, db: unknown, logger: Logger): Promise<KeyMaterial> {
  const env = options.env ?? process.env;
  const material = await loadKeyMaterial(env, config.dataDir);
  for (const s of keyMaterialSecrets(material)) secrets.addDaemonSecret(s);
  secrets.addDaemonSecret(env[SECRET_ENV.adminKey]);
  const log = logger.child({ component: 'security' });
  const cluster = !((db as { embedded?: unknown } | undefined)?.embedded ?? true);
  for (const warning of material.warnings) log.warn({ event: 'security.key-file' }, warning);
  const jwtWhere = material.jwt.source === 'env' ? SECRET_ENV.jwtSecret : material.jwt.file;
  log.info({ event: 'security.jwt-secret', source: material.jwt.source, file: material.jwt.file },
    material.jwt.source === 'generated' ? `generated the editor-token (JWT) secret in ${jwtWhere} (mode 0600)` : `editor-token (JWT) secret from ${jwtWhere}`);
  if (material.master.source === 'generated') {
    const message = `GENERATED A NEW MASTER KEY in ${material.master.file} (mode 0600). It encrypts every stored credential: back it up now; losing it loses them all. In production set ${SECRET_ENV.masterKey} instead.`;
    log.warn({ event: 'security.master-key', source: 'generated', kid: material.master.kid, file: material.master.file }, message);
    (options.console ?? process.stderr).write(`\nWARNING: ${message}\n\n`);
  } else {
    log.info({ event: 'security.master-key', source: material.master.source, kid: material.master.kid }, `credentials master key ${material.master.kid} from ${material.master.source === 'env' ? SECRET_ENV.masterKey : material.master.file}`);
  }
  if (cluster) {
    if (material.jwt.source !== 'env') log.warn({ event: 'security.cluster' }, `external database: every daemon sharing it needs the same ${SECRET_ENV.jwtSecret}, or editor tokens only work on the daemon that issued them`);
    if (material.master.source !== 'env') log.warn({ event: 'security.cluster' }, `external database: every daemon sharing it needs the same ${SECRET_ENV.masterKey}, or credentials written by one cannot be read by the others`);
  }
  return material;
}

/**
 * Issue 4, security: API keys and editor tokens (AuthGuard on every route), the credentials vault,
 * rate limits. Global so EngineModule can take ENGINE_SECURITY and other modules ApiKeys/Credentials.
 */
@Global()
@Module({})
export class SecurityModule {
  static forRoot(options: SecurityOptions = {}): DynamicModule {
    return {
      module: SecurityModule,
      imports: [DiscoveryModule],
      controllers: [AuthController, KeysController, CredentialsController],
      providers: [
        { provide: SECURITY_OPTIONS, useValue: options },
        { provide: SECRET_REGISTRY, useValue: options.secrets ?? new SecretRegistry() },
        {
          provide: KEY_MATERIAL,
          inject: [SECURITY_OPTIONS, APP_CONFIG, SECRET_REGISTRY, DATABASE, ROOT_LOGGER],
          useFactory: keyMaterial,
        },
        {
          provide: TokenService,
          inject: [KEY_MATERIAL],
          // a little clock tolerance: tokens issued by one daemon of a cluster are checked by another
          useFactory: (material: KeyMaterial) => new TokenService({ secret: material.jwtSecret, clockToleranceSeconds: 5 }),
        },
        { provide: Vault, inject: [KEY_MATERIAL], useFactory: (material: KeyMaterial) => new Vault(material.masterKey) },
        {
          provide: API_KEY_STORE,
          inject: [DATABASE],
          useFactory: (db: unknown): ApiKeyStore => {
            const sql = sqlDatabase(db);
            return sql ? new PgApiKeyStore(sql) : new MemoryApiKeyStore();
          },
        },
        {
          provide: CREDENTIAL_STORE,
          inject: [DATABASE],
          useFactory: (db: unknown): CredentialStore => {
            const sql = sqlDatabase(db);
            return sql ? new PgCredentialStore(sql) : new MemoryCredentialStore();
          },
        },
        {
          provide: ApiKeys,
          inject: [API_KEY_STORE, APP_CONFIG, ROOT_LOGGER],
          useFactory: (store: ApiKeyStore, config: AnchorflowConfig, logger: Logger) =>
            new ApiKeys(store, {
              cacheTtlMs: config.security.keyCacheMs,
              onTouchError: (err, keyId) => logger.warn({ err, keyId }, `could not record the use of API key ${keyId}`),
            }),
        },
        {
          provide: Credentials,
          // the credential types of the loaded plugins: their data is validated when stored
          inject: [CREDENTIAL_STORE, Vault, SECRET_REGISTRY, ROOT_LOGGER, { token: DAEMON_PLUGINS, optional: true }],
          useFactory: (store: CredentialStore, vault: Vault, secrets: SecretRegistry, logger: Logger, plugins?: DaemonPlugins) => {
            const log = logger.child({ component: 'credentials' });
            return new Credentials(store, vault, secrets, undefined, (type) => plugins?.credentialTypes.get(type)?.def, (refusal) =>
              log.warn({ event: 'credential.out-of-scope', ...refusal }, `credential ${refusal.credential} refused to node ${refusal.nodeId} of execution ${refusal.executionId}: ${refusal.reason}`));
          },
        },
        {
          provide: AUTHENTICATOR,
          inject: [ApiKeys, TokenService, ROOT_LOGGER],
          useFactory: (keys: ApiKeys, tokens: TokenService, logger: Logger) => {
            const log = logger.child({ component: 'auth' });
            return new Authenticator(keys, tokens, (failure) => log.debug({ event: 'auth.failed', ...failure }, `authentication failed: ${failure.reason}`));
          },
        },
        {
          provide: ENGINE_SECURITY,
          inject: [Credentials, SECRET_REGISTRY],
          useFactory: (credentials: Credentials, secrets: SecretRegistry): EngineSecurity => ({
            credentials: credentials.accessor(),
            wrapTransport: (transport) => redactingTransport(transport, secrets, credentials),
          }),
        },
        SecurityStartup,
        RouteAccessCheck,
        // order matters: the rate limit counts a request before authentication can reject it
        { provide: APP_GUARD, inject: [APP_CONFIG, Reflector], useFactory: (config: AnchorflowConfig, reflector: Reflector) => createRateLimitGuard(config.security, reflector) },
        AuthEvents,
        { provide: APP_GUARD, useClass: AuthGuard },
      ],
      exports: [AuthEvents, SECRET_REGISTRY, TokenService, Vault, ApiKeys, Credentials, AUTHENTICATOR, ENGINE_SECURITY],
    };
  }
}
