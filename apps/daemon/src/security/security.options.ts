import type { SecretRegistry } from '../core/secret-registry.js';

/** What AppModule.forRoot takes for security (all optional). */
export interface SecurityOptions {
  /**
   * Where ANCHORFLOW_ADMIN_KEY, ANCHORFLOW_JWT_SECRET and ANCHORFLOW_MASTER_KEY are read from
   * (default: process.env). Specs pass their own, so that no key files are written.
   */
  env?: Readonly<Record<string, string | undefined>>;
  /** the daemon-wide registry the root logger redacts with (daemon.ts creates it first); default: a new one */
  secrets?: SecretRegistry;
  /** where the first-start admin key is printed, once (default: stderr; never the JSON log) */
  console?: { write(text: string): unknown };
}
