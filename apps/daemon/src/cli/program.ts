import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { CliError, EXIT, EXIT_CODES_HELP } from './exit-codes.js';
import { type CliIo, processIo } from './io.js';

export const DAEMON_MAIN = fileURLToPath(new URL('../main.js', import.meta.url));
export const WORKER_MAIN = fileURLToPath(new URL('../../../worker/dist/main.js', import.meta.url));

/** What a command's action leaves behind: an exit status, or 'running' for start/worker (the process lives on). */
type Outcome = number | 'running';

/**
 * The `anchorflow` command line. Command modules are imported when their command runs, so `--help` or a
 * REST command does not load the ORM. Every action sets `outcome`; `runCli` turns it (or a CliError) into the
 * exit status. Commander's own usage errors exit 2.
 */
export function buildProgram(io: CliIo, done: (outcome: Outcome) => void): Command {
  const program = new Command('anchorflow')
    .description('Anchorflow: durable workflow-engine daemon and its operations tools')
    .version(process.env.npm_package_version ?? '0.1.0', '-V, --version')
    // program options only before the command: `workflow export <id> --version 2` is the export's option
    .enablePositionalOptions()
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', EXIT_CODES_HELP)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });

  const act = <A extends unknown[]>(fn: (...args: A) => Outcome | Promise<Outcome>) => async (...args: A) => done(await fn(...args));

  program.command('start')
    .description('run the daemon in the foreground (like `npm start`; stops gracefully on SIGTERM)')
    .action(act(async () => {
      if (!existsSync(DAEMON_MAIN)) throw new CliError(`${DAEMON_MAIN} is missing: build first (npm run build)`, EXIT.FAILURE);
      await import(DAEMON_MAIN);
      return 'running' as const;
    }));

  program.command('worker')
    .description('run a plugin worker (apps/worker; needs NATS_URL)')
    .action(act(async () => {
      if (!existsSync(WORKER_MAIN)) throw new CliError(`${WORKER_MAIN} is missing: build first (npm run build)`, EXIT.FAILURE);
      await import(WORKER_MAIN);
      return 'running' as const;
    }));

  program.command('migrate')
    .description('apply pending database migrations and exit (the daemon also does at start-up)')
    .action(act(async () => (await import('./commands/migrate.command.js')).migrate(io)));

  const workflow = program.command('workflow').description('workflows over the REST API (ANCHORFLOW_URL, ANCHORFLOW_API_KEY)');
  workflow.command('import <file>')
    .description('create a workflow from a JSON file; prints {id, version, name}')
    .action(act(async (file: string) => (await import('./commands/workflow.command.js')).workflowImport(io, file)));
  workflow.command('export <id>')
    .description('write a workflow as an importable JSON definition')
    .option('-o, --out <file>', 'write to this file instead of stdout')
    .option('--version <n>', 'a given version instead of the latest')
    .action(act(async (id: string, options: { out?: string; version?: string }) => (await import('./commands/workflow.command.js')).workflowExport(io, id, options)));
  workflow.command('run <fileOrId>')
    .description('run a workflow by id, or import a workflow file and run it; prints the execution')
    .option('-i, --input <json>', 'the execution input (JSON)', undefined)
    .option('-w, --wait <ms>', 'wait up to this long for the execution to finish (exit 0 succeeded, 1 failed/cancelled, 3 still running)')
    .action(act(async (target: string, options: { input?: string; wait?: string }) => (await import('./commands/workflow.command.js')).workflowRun(io, target, options)));

  const keys = program.command('keys').description('API keys, directly in the database (works while the daemon is stopped)');
  keys.command('create')
    .description('create a key and print its secret once')
    .requiredOption('-n, --name <name>', 'what the key is for')
    .requiredOption('-r, --role <role>', 'admin | editor | operator | auditor | viewer')
    .option('-e, --expires <when>', 'expiry: an ISO date or <n>d (days from now)')
    .action(act(async (options: { name: string; role: string; expires?: string }) => (await import('./commands/keys.command.js')).keysCreate(io, options)));
  keys.command('list')
    .description('list keys (never their secrets)')
    .action(act(async () => (await import('./commands/keys.command.js')).keysList(io)));
  keys.command('revoke <id>')
    .description('revoke a key (refused for the last usable admin key)')
    .action(act(async (id: string) => (await import('./commands/keys.command.js')).keysRevoke(io, id)));

  const credentials = program.command('credentials').description('the credentials vault, directly in the database (stop the daemons first)');
  credentials.command('rotate-master-key')
    .description('re-encrypt every credential under a new master key (ANCHORFLOW_NEW_MASTER_KEY, or generated) in one transaction')
    .action(act(async () => (await import('./commands/credentials.command.js')).credentialsRotateMasterKey(io)));

  const audit = program.command('audit').description('the hash-chained audit log');
  audit.command('verify')
    .description('recompute the hash chain from the database and report the first broken link (exit 1)')
    .option('--after <seq:hash>', 'verify only the entries after a trusted (anchored) head')
    .option('--expect-head <seq:hash>', 'fail unless the chain still holds this head (recorded outside the database)')
    .option('--anchored', 'also prove the newest anchored head (receipts.network): up to which entry the log is anchored, checked on chain')
    .option('--offline', 'with --anchored: check the proof leaf → root only, no RPC')
    .option('--rpc <url>', 'with --anchored: check on chain through this RPC URL instead of the configured network')
    .option('--json', 'print the result as JSON')
    .action(act(async (options: { after?: string; expectHead?: string; anchored?: boolean; offline?: boolean; rpc?: string; json?: boolean }) => (await import('./commands/audit-verify.command.js')).auditVerify(io, options)));

  const receipt = program.command('receipt').description('verifiable execution receipts (ARCHITECTURE §9)');
  receipt.command('verify <receipt>')
    .description('verify a receipt against its exported history: exit 0 valid, 1 invalid (the first broken link is named), 2 unreadable')
    .option('--history <file>', 'the history: GET /api/v1/executions/<id>/events?format=receipt')
    .option('--offline', 'no chain check (history, statement, leaf → root)')
    .option('--rpc <url>', 'check on chain through this RPC URL instead of the configured network')
    .option('--confirmations <n>', 'blocks required on top (default: the network\'s confirmations, else 1)')
    .option('--json', 'print the verdict as JSON')
    .action(act(async (file: string, options: { history?: string; offline?: boolean; rpc?: string; confirmations?: string; json?: boolean }) => (await import('./commands/receipt-verify.command.js')).receiptVerify(io, file, options)));

  const proof = program.command('proof').description('chain-anchor proofs (ARCHITECTURE §9)');
  proof.command('verify <file>')
    .description('verify a proof file: exit 0 valid, 1 invalid (the failed checks are printed), 2 malformed file')
    .option('--data <file>', 'a JSON file with the original data: the leaf must be its hash')
    .option('--offline', 'leaf → root only, no RPC')
    .option('--rpc <url>', 'check on chain through this RPC URL instead of the configured network')
    .option('--confirmations <n>', 'blocks required on top (default: the network\'s confirmations, else 1)')
    .option('--json', 'print the verdict as JSON')
    .action(act(async (file: string, options: { data?: string; offline?: boolean; rpc?: string; confirmations?: string; json?: boolean }) => (await import('./commands/proof-verify.command.js')).proofVerify(io, file, options)));

  const chainCmd = program.command('chain').description('chain-anchor networks (pluginConfig.chain-anchor.chains)');
  chainCmd.command('deploy-registry')
    .description('deploy the AnchorRegistry contract to an EVM network and print its address (key: ANCHORFLOW_DEPLOYER_KEY or --key-file)')
    .requiredOption('-n, --network <name>', 'a network of pluginConfig.chain-anchor.chains')
    .option('--key-file <file>', 'a file holding the deployer\'s private key (hex)')
    .action(act(async (options: { network: string; keyFile?: string }) => (await import('./commands/chain-deploy.command.js')).chainDeployRegistry(io, options)));

  const observer = program.command('observer').description('payment observers (plugins/payment-observer) over the REST API');
  observer.command('status [id]')
    .description('progress of each observer (ingested block, head, blocks behind, events/s) as a progress bar')
    .option('-f, --follow', 'repeat until Ctrl-C')
    .option('--until-synced', 'with --follow: stop once no observer is behind the head')
    .option('--interval-ms <ms>', 'how often --follow refreshes', '1000')
    .option('--json', 'print the observers as JSON')
    .action(act(async (id: string | undefined, options: { follow?: boolean; untilSynced?: boolean; intervalMs?: string; json?: boolean }) => (await import('./commands/observer.command.js')).observerStatus(io, id, options)));
  observer.command('replay <id>')
    .description('rebuild the observer state from its log and print its sha256 (identical on every replay)')
    .option('--state', 'also print the whole state')
    .action(act(async (id: string, options: { state?: boolean }) => (await import('./commands/observer.command.js')).observerReplay(io, id, options)));

  program.command('openapi')
    .description('print the OpenAPI document of the REST API (JSON; no database needed); apps/daemon/openapi.json is its committed copy')
    .option('-o, --out <file>', 'write to this file instead of stdout')
    .action(act(async (options: { out?: string }) => (await import('./commands/openapi.command.js')).openapi(io, options)));

  const db = program.command('db').description('the daemon\'s PostgreSQL database');
  db.command('grant-sql')
    .description('print the one-time SQL a superuser runs in the daemon\'s database: its role owns its tables but cannot switch triggers off (docs/security.md)')
    .option('--role <name>', 'the role the daemon connects as', 'anchorflow')
    .option('--database <name>', 'the daemon\'s database', 'anchorflow')
    .action(act(async (options: { role?: string; database?: string }) => (await import('./commands/db-grant.command.js')).dbGrantSql(io, options)));

  const config = program.command('config').description('configuration');
  config.command('check')
    .description('load the configuration as the daemon would and print every problem (exit 78) or OK')
    .option('--print', 'also print the effective configuration (secrets redacted)')
    .action(act(async (options: { print?: boolean }) => (await import('./commands/config-check.command.js')).configCheck(io, options)));

  return program;
}

/** Parses `argv` (without node and script), runs the command, returns the exit status (or 'running'). */
export async function runCli(argv: string[], io: CliIo = processIo): Promise<Outcome> {
  let outcome: Outcome = EXIT.OK;
  const program = buildProgram(io, (o) => { outcome = o; });
  try {
    if (argv.length === 0) {
      program.outputHelp();
      return EXIT.USAGE;
    }
    await program.parseAsync(argv, { from: 'user' });
    return outcome;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here too, with exit code 0
      return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    if (err instanceof CliError) {
      io.err(`anchorflow: ${err.message}`);
      return err.exitCode;
    }
    io.err(`anchorflow: ${(err as Error)?.stack ?? String(err)}`);
    return EXIT.FAILURE;
  }
}
