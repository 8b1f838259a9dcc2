import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { ApiKeys } from '../auth/api-keys.js';
import { Credentials } from '../credentials/credentials.js';
import { ROOT_LOGGER } from '../logging/logging.tokens.js';
import { SECRET_ENV } from './key-material.js';
import { SECURITY_OPTIONS } from './security.tokens.js';
import type { SecurityOptions } from './security.options.js';

/**
 * Start-up, before the daemon listens: the first admin key (printed once to the console, never to the
 * JSON log) or the provisioned ANCHORFLOW_ADMIN_KEY, and every stored credential registered for
 * redaction.
 */
@Injectable()
export class SecurityStartup implements OnApplicationBootstrap {
  constructor(
    @Inject(ApiKeys) private readonly keys: ApiKeys,
    @Inject(Credentials) private readonly credentials: Credentials,
    @Inject(SECURITY_OPTIONS) private readonly options: SecurityOptions,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const env = this.options.env ?? process.env;
    const result = await this.keys.bootstrap(env[SECRET_ENV.adminKey]);
    const log = this.logger.child({ component: 'security' });
    if (result.provisioned) {
      const { key, inserted, warning } = result.provisioned;
      if (warning) log.warn({ event: 'auth.admin-key', keyId: key.id }, warning);
      else log.info({ event: 'auth.admin-key', keyId: key.id, inserted }, inserted ? `stored the admin key from ${SECRET_ENV.adminKey} (id ${key.id})` : `admin key from ${SECRET_ENV.adminKey} present (id ${key.id})`);
    } else if (result.generated) {
      const { key, secret } = result.generated;
      (this.options.console ?? process.stderr).write(banner(secret));
      log.warn({ event: 'auth.bootstrap-key', keyId: key.id }, `first start: created admin API key ${key.id}; it was printed once to stderr and cannot be shown again`);
    }
    const { registered, unreadable } = await this.credentials.registerAllSecrets();
    if (unreadable.length > 0) {
      log.error(
        { event: 'credentials.unreadable', count: unreadable.length, credentials: unreadable.slice(0, 20) },
        `${unreadable.length} stored credential(s) cannot be decrypted with this daemon's master key (another key, or an unfinished rotation): nodes using them will fail`,
      );
    } else if (registered > 0) {
      log.info({ event: 'credentials.loaded', count: registered }, `${registered} credential(s) decrypt with the master key`);
    }
  }
}

function banner(secret: string): string {
  const rule = '='.repeat(78);
  return [
    '',
    rule,
    'Anchorflow first start: an admin API key was created. It is shown ONLY NOW (only its hash is kept):',
    '',
    `    ${secret}`,
    '',
    'Use it as "Authorization: Bearer <key>" or "X-Api-Key: <key>"; create more keys with POST /api/v1/keys.',
    `To provision the admin key yourself instead, set ${SECRET_ENV.adminKey} before the first start.`,
    rule,
    '',
    '',
  ].join('\n');
}
