/** Exit statuses of the `anchorflow` CLI (printed by `anchorflow --help`). */
export const EXIT = {
  /** success; `audit verify`: the chain is intact; `workflow run --wait`: the execution succeeded */
  OK: 0,
  /** the command failed: a broken audit chain, a failed or cancelled execution, an API or database error */
  FAILURE: 1,
  /** bad usage (unknown command or option, bad argument); `proof verify`: the file is not a proof */
  USAGE: 2,
  /** `workflow run --wait`: the execution had not finished when the wait ended */
  NOT_FINISHED: 3,
  /** the daemon (ANCHORFLOW_URL) or the database cannot be reached (EX_UNAVAILABLE) */
  UNAVAILABLE: 69,
  /** the API refused the key (401/403) (EX_NOPERM) */
  NO_PERMISSION: 77,
  /** the configuration is invalid (EX_CONFIG) */
  CONFIG: 78,
} as const;

export const EXIT_CODES_HELP = `
Exit status:
  0   success (audit verify: chain intact; proof verify: valid; workflow run --wait: execution succeeded)
  1   failure (broken audit chain, invalid proof, failed/cancelled execution, API or database error)
  2   usage error; proof verify: the file is unreadable or not a proof
  3   workflow run --wait: the execution had not finished when the wait ended
  69  the daemon (ANCHORFLOW_URL) or the database is unreachable
  77  the API refused the key (401/403)
  78  the configuration is invalid

Environment:
  ANCHORFLOW_URL      daemon base URL for workflow commands (default http://127.0.0.1:8080)
  ANCHORFLOW_API_KEY  API key sent as "Authorization: Bearer <key>"
  DATABASE_URL, ANCHORFLOW_DATA_DIR, ANCHORFLOW_CONFIG and every ANCHORFLOW_* setting of the daemon:
                      used by start, migrate, keys, audit verify and config check (see config/README.md)
`;

/** An error that ends the CLI with a given status and a one-line message (no stack). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.FAILURE,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
