import { readFileSync } from 'node:fs';
import { ChainAnchorConfigError, EvmChain, parseChainAnchorConfig } from '@anchorflow/plugin-chain-anchor';
import { cliConfig } from '../cli-context.js';
import { CliError, EXIT } from '../exit-codes.js';
import type { CliIo } from '../io.js';

/**
 * Deploys contracts/AnchorRegistry.sol (the bytecode compiled at build time) to a configured EVM network
 * and prints the address for `pluginConfig.chain-anchor.chains.<name>.registry`. The deployer key comes
 * from ANCHORFLOW_DEPLOYER_KEY or a file (--key-file), never from the command line.
 */
export async function chainDeployRegistry(io: CliIo, options: { network: string; keyFile?: string }): Promise<number> {
  let config;
  try {
    config = parseChainAnchorConfig(cliConfig(io).pluginConfig?.['chain-anchor']);
  } catch (err) {
    if (err instanceof ChainAnchorConfigError) throw new CliError(err.message, EXIT.CONFIG);
    throw err;
  }
  const network = config.chains[options.network];
  if (!network) throw new CliError(`unknown network "${options.network}": configured are ${Object.keys(config.chains).join(', ') || 'none'} (pluginConfig.chain-anchor.chains)`, EXIT.USAGE);
  if (network.kind !== 'evm') throw new CliError(`network "${options.network}" is ${network.kind}: deploy-registry deploys the EVM AnchorRegistry; a Casper network names an operator-installed contract (contractHash)`, EXIT.USAGE);
  let key = io.env.ANCHORFLOW_DEPLOYER_KEY?.trim();
  if (options.keyFile) {
    try {
      key = readFileSync(options.keyFile, 'utf8').trim();
    } catch (err) {
      throw new CliError(`cannot read --key-file ${options.keyFile}: ${(err as Error).message}`, EXIT.USAGE);
    }
  }
  if (!key) throw new CliError('no deployer key: set ANCHORFLOW_DEPLOYER_KEY or pass --key-file <file> (a 0x-prefixed 32-byte hex private key)', EXIT.USAGE);
  if (!/^(0x)?[0-9a-fA-F]{64}$/.test(key)) throw new CliError('the deployer key must be 32 bytes as 64 hex digits (optionally 0x-prefixed)', EXIT.USAGE);
  const chain = new EvmChain({ rpcUrls: network.rpcUrls, chainId: network.chainId, rpcTimeoutMs: network.rpcTimeoutMs });
  try {
    const actual = await chain.chainId();
    if (actual !== network.chainId) throw new CliError(`the RPC of "${options.network}" serves chain id ${actual}, the config says ${network.chainId}`, EXIT.CONFIG);
    io.err(`deploying AnchorRegistry to ${options.network} (chain id ${actual})…`);
    const deployed = await chain.deployRegistry(key.startsWith('0x') ? key : `0x${key}`);
    io.err(`deployed from ${deployed.from} in transaction ${deployed.txHash} (block ${deployed.block}); put this in pluginConfig.chain-anchor.chains.${options.network}.registry:`);
    io.out(deployed.address);
    return EXIT.OK;
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`deployment to ${options.network} failed: ${(err as Error).message}`, EXIT.UNAVAILABLE);
  } finally {
    chain.destroy();
  }
}
