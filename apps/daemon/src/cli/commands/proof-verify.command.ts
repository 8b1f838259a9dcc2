import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ChainAnchorConfigError, ProofFormatError, onlineCheckerFor, parseChainAnchorConfig, publishedNetworks, verifyProof, type PublishedNetworks } from '@anchorflow/plugin-chain-anchor';
import { cliConfig } from '../cli-context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { type CliIo, printJson } from '../io.js';

export interface ProofVerifyOptions {
  /** a JSON file with the original data: the leaf must be its hash */
  data?: string;
  /** leaf → root only, no RPC */
  offline?: boolean;
  /** an RPC URL to check against instead of the configured network's */
  rpc?: string;
  confirmations?: string;
  json?: boolean;
}

export function readJson(io: CliIo, file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(resolve(io.cwd, file), 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${what} ${file}: ${(err as Error).message}`, EXIT.USAGE);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`${what} ${file} is not JSON: ${(err as Error).message}`, EXIT.USAGE);
  }
}

/** The configured networks (pluginConfig.chain-anchor of ANCHORFLOW_CONFIG), for online checks. */
export function configuredNetworks(io: CliIo): PublishedNetworks {
  try {
    return publishedNetworks(parseChainAnchorConfig(cliConfig(io).pluginConfig?.['chain-anchor']));
  } catch (err) {
    if (err instanceof ChainAnchorConfigError) throw new CliError(err.message, EXIT.CONFIG);
    throw err;
  }
}

/**
 * Verifies a proof file (ARCHITECTURE §9): exit 0 valid, 1 invalid (the failed checks are printed),
 * 2 when the file is unreadable or not a proof. Online (the default) also checks the chain through the
 * network's configured RPC URLs (or --rpc).
 */
export async function proofVerify(io: CliIo, file: string, options: ProofVerifyOptions = {}): Promise<number> {
  const proof = readJson(io, file, 'proof file');
  const data = options.data ? readJson(io, options.data, 'data file') : undefined;
  const confirmations = options.confirmations === undefined ? undefined : Number(options.confirmations);
  if (confirmations !== undefined && (!Number.isInteger(confirmations) || confirmations < 1)) throw new CliError(`--confirmations must be a positive integer, got "${options.confirmations}"`, EXIT.USAGE);
  if (options.rpc !== undefined && !/^https?:\/\//.test(options.rpc)) throw new CliError(`--rpc must be an http(s) URL, got "${options.rpc}"`, EXIT.USAGE);
  let verdict;
  try {
    verdict = await verifyProof(proof, {
      ...(options.data ? { data, hasData: true } : {}),
      ...(options.offline ? {} : { online: onlineCheckerFor(options.rpc ? {} : configuredNetworks(io), { rpcUrl: options.rpc, confirmations }) }),
    });
  } catch (err) {
    if (err instanceof ProofFormatError) {
      io.err(`anchorflow: ${file} is not a valid proof file:`);
      for (const p of err.problems) io.err(`  ${p.path} ${p.message}`);
      return EXIT.USAGE;
    }
    throw err;
  }
  if (options.json) printJson(io, verdict);
  else {
    for (const c of verdict.checks) io.out(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
    io.out(verdict.valid ? `proof VALID${options.offline ? ' (offline: leaf → root only)' : ''}` : `proof INVALID: ${verdict.checks.filter((c) => !c.ok).map((c) => c.name).join(', ')} failed`);
  }
  return verdict.valid ? EXIT.OK : EXIT.FAILURE;
}
