import { ConfigError, loadConfig, readConfigFiles, redactConfig, unknownEnvVars } from '../../config/load-config.js';
import { EXIT } from '../exit-codes.js';
import { type CliIo, printJson } from '../io.js';

/** Loads the configuration exactly as the daemon does and prints every problem (exit 78) or OK (exit 0). */
export function configCheck(io: CliIo, options: { print?: boolean }): number {
  let config;
  try {
    config = loadConfig(io.env, readConfigFiles(io.env, { cwd: io.cwd }));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.err(`anchorflow: ${err.message}`);
    return EXIT.CONFIG;
  }
  for (const name of unknownEnvVars(io.env)) io.err(`warning: ${name} is not a known setting and is ignored`);
  if (options.print) printJson(io, redactConfig(config));
  io.out('configuration OK');
  return EXIT.OK;
}
